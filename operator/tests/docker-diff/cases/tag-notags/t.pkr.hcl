# docker-tag without tags (the repository as written), then docker-save.
source "docker" "a" {
  image  = "REGISTRY/busybox:latest"
  commit = true
}
build {
  sources = ["source.docker.a"]
  post-processors {
    post-processor "docker-tag" {
      repository = "REGISTRY/notags"
    }
    post-processor "docker-save" {
      path = "saved.tar"
    }
  }
}
