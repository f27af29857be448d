# A failing provisioner: the container is still killed.
source "docker" "a" {
  image   = "REGISTRY/busybox:latest"
  discard = true
}
build {
  sources = ["source.docker.a"]
  provisioner "shell" {
    inline = ["echo before", "exit 3"]
  }
}
