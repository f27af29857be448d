source "docker" "a" {
  discard = true
}
source "docker" "b" {
  image   = "debian:bookworm"
  discard = true
  commit  = true
}
build {
  sources = ["source.docker.a", "source.docker.b"]
}
