# A file uploaded where its directory is missing: `docker cp - ID:DIR` refuses it (the
# plugin makes no directories); nothing is made in the container.
source "docker" "a" {
  image   = "REGISTRY/busybox:latest"
  discard = true
}
build {
  sources = ["source.docker.a"]
  provisioner "file" {
    content     = "x"
    destination = "/nowhere/deeper/x"
  }
}
