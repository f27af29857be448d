# A device the host lacks: dockerd cannot gather it when it starts the container.
source "docker" "a" {
  image   = "REGISTRY/busybox:latest"
  discard = true
  device  = ["/dev/kiln-no-such-device"]
}
build {
  sources = ["source.docker.a"]
  provisioner "shell" {
    inline = ["echo never"]
  }
}
