# The builder logs in to pull its image from a registry that wants a login.
source "docker" "a" {
  image          = "AUTH_REGISTRY/busybox:latest"
  discard        = true
  login          = true
  login_server   = "AUTH_REGISTRY"
  login_username = "kiln"
  login_password = "secret"
}
build {
  sources = ["source.docker.a"]
  provisioner "shell" {
    inline = ["echo pulled with a login"]
  }
}
