source "docker" "a" {
  image = "debian:bookworm"
}
build {
  sources = ["source.docker.a"]
}
