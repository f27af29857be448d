# An entrypoint under a file: runc's stat error, and dockerd's hint for any ENOTDIR.
source "docker" "a" {
  image       = "REGISTRY/busybox:latest"
  discard     = true
  run_command = ["-d", "-i", "-t", "--entrypoint=/bin/sh/x", "--", "{{.Image}}"]
}
build {
  sources = ["source.docker.a"]
}
