# A directory uploaded where the destination's parent is missing: `docker cp SRC ID:DST`
# makes DST, not its parents, and refuses.
source "docker" "a" {
  image   = "REGISTRY/busybox:latest"
  discard = true
}
build {
  sources = ["source.docker.a"]
  provisioner "file" {
    source      = "srcdir"
    destination = "/nowhere/deeper/dir"
  }
}
