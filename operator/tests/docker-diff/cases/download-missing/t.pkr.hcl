# A file provisioner downloading a path the container lacks: docker cp's refusal.
source "docker" "a" {
  image   = "REGISTRY/busybox:latest"
  discard = true
}
build {
  sources = ["source.docker.a"]
  provisioner "file" {
    direction   = "download"
    source      = "/nonexistent.txt"
    destination = "got.txt"
  }
}
