# A container that starts (its entrypoint is busybox) in an image without /bin/sh: files
# upload, and a command fails as `docker exec … /bin/sh -c` fails there (exit 126).
source "docker" "a" {
  image       = "REGISTRY/noshell:latest"
  discard     = true
  run_command = ["-d", "-i", "-t", "--entrypoint=/bin/busybox", "--", "{{.Image}}", "sleep", "600"]
}
build {
  sources = ["source.docker.a"]
  provisioner "file" {
    content     = "x"
    destination = "/x"
  }
  provisioner "shell" {
    inline              = ["echo never"]
    start_retry_timeout = "3s"
  }
}
