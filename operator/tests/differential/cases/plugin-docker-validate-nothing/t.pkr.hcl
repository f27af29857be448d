source "docker" "a" {
}
build {
  sources = ["source.docker.a"]
}
