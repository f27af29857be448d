# A container that cannot start (run_command's user is not in the image): `docker run`
# fails before any provisioner, with the runtime's words.
source "docker" "a" {
  image       = "REGISTRY/busybox:latest"
  discard     = true
  run_command = ["-d", "-i", "-t", "-u", "nobody2", "--entrypoint=/bin/sh", "--", "{{.Image}}"]
}
build {
  sources = ["source.docker.a"]
  provisioner "shell" {
    inline = ["echo never"]
  }
}
