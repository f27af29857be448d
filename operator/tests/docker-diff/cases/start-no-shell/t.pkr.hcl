# An image without /bin/sh: `docker run --entrypoint=/bin/sh` (the default run_command)
# cannot start its process, and the build fails there, in runc's words.
source "docker" "a" {
  image   = "REGISTRY/noshell:latest"
  discard = true
}
build {
  sources = ["source.docker.a"]
  provisioner "file" {
    content     = "x"
    destination = "/x"
  }
}
