# A container that cannot start (its image has no /bin/sh for the plugin's entrypoint):
# `docker run` fails before any provisioner, with the runtime's words.
source "docker" "a" {
  build {
    path      = "Dockerfile"
    arguments = { BASE = "REGISTRY/busybox:latest" }
  }
  discard = true
}
build {
  sources = ["source.docker.a"]
  provisioner "shell" {
    inline = ["echo never"]
  }
}
