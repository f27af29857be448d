source "docker" "a" {
  image  = "debian:bookworm"
  commit = "maybe"
}
build {
  sources = ["source.docker.a"]
}
