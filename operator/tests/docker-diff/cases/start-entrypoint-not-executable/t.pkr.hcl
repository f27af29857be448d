# An entrypoint that is not executable (a directory too): "permission denied"; a command
# after the image does not matter once --entrypoint is set.
source "docker" "a" {
  image       = "REGISTRY/busybox:latest"
  discard     = true
  run_command = ["-d", "-i", "-t", "--entrypoint", "/etc/passwd", "--", "{{.Image}}", "sh"]
}
build {
  sources = ["source.docker.a"]
}
