# docker-tag with two tags, then docker-push: the artifact's id then each tag, with docker push's lines.
source "docker" "a" {
  image  = "REGISTRY/busybox:latest"
  commit = true
}
build {
  sources = ["source.docker.a"]
  provisioner "shell" {
    inline = ["echo x > /x"]
  }
  post-processors {
    post-processor "docker-tag" {
      repository = "REGISTRY/pushed"
      tags       = ["v1", "v2"]
    }
    post-processor "docker-push" {}
  }
}
