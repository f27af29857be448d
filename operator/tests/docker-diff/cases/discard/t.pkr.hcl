# A discarded container: no step after provisioning, Packer's export artifact without a
# path; `platform` goes to `docker run`.
source "docker" "a" {
  image    = "REGISTRY/busybox:latest"
  discard  = true
  platform = "linux/amd64"
}
build {
  sources = ["source.docker.a"]
  provisioner "shell" {
    inline = ["echo discarded"]
  }
}
