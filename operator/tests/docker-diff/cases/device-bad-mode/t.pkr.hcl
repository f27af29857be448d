# A device mode docker does not know: the CLI refuses it, with its help line.
source "docker" "a" {
  image   = "REGISTRY/busybox:latest"
  discard = true
  device  = ["/dev/zero:/dev/kz:rwx"]
}
build {
  sources = ["source.docker.a"]
  provisioner "shell" {
    inline = ["echo never"]
  }
}
