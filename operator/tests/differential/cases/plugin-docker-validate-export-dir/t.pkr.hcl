source "docker" "a" {
  image       = "debian:bookworm"
  export_path = "out"
}
build {
  sources = ["source.docker.a"]
}
