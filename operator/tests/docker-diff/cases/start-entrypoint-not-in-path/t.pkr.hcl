# The image's command (`sh`) looked up in the container's PATH, which `-e` replaces.
source "docker" "a" {
  image       = "REGISTRY/busybox:latest"
  discard     = true
  run_command = ["-d", "-i", "-t", "-e", "PATH=/nowhere", "--", "{{.Image}}"]
}
build {
  sources = ["source.docker.a"]
}
