source "docker" "a" {
  image       = "debian:bookworm"
  commit      = true
  discard     = true
  export_path = "image.tar"
}
build {
  sources = ["source.docker.a"]
}
