# docker-push with a wrong password: the login error, the build fails.
source "docker" "a" {
  image  = "REGISTRY/busybox:latest"
  commit = true
}
build {
  sources = ["source.docker.a"]
  post-processors {
    post-processor "docker-tag" {
      repository = "AUTH_REGISTRY/private"
      tags       = ["1"]
    }
    post-processor "docker-push" {
      login          = true
      login_server   = "AUTH_REGISTRY"
      login_username = "kiln"
      login_password = "wrong"
    }
  }
}
