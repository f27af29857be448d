# A tmpfs option dockerd does not know, refused when it starts the container.
source "docker" "a" {
  image   = "REGISTRY/busybox:latest"
  discard = true
  tmpfs   = ["/scratch:size=1m,nosuchoption"]
}
build {
  sources = ["source.docker.a"]
  provisioner "shell" {
    inline = ["echo never"]
  }
}
