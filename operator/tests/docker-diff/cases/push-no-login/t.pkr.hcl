# docker-push to a registry that wants a login, without one: the push is refused ("no basic
# auth credentials", docker push's exit status). An imported image: one layer, so docker
# push's lines come in one order.
source "docker" "a" {
  image       = "REGISTRY/busybox:latest"
  export_path = "exp.tar"
}
build {
  sources = ["source.docker.a"]
  post-processors {
    post-processor "docker-import" {
      repository = "AUTH_REGISTRY/private"
      tag        = "1"
    }
    post-processor "docker-push" {}
  }
}
