# Neither run_command nor the image (it has no Cmd) names a command: dockerd's create error.
source "docker" "a" {
  image       = "REGISTRY/noshell:latest"
  discard     = true
  run_command = ["-d", "-i", "-t", "--", "{{.Image}}"]
}
build {
  sources = ["source.docker.a"]
}
