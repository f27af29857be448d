# A relative tmpfs destination, refused when dockerd creates the container.
source "docker" "a" {
  image   = "REGISTRY/busybox:latest"
  discard = true
  tmpfs   = ["scratch"]
}
build {
  sources = ["source.docker.a"]
  provisioner "shell" {
    inline = ["echo never"]
  }
}
