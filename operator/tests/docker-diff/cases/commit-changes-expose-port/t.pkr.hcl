# An EXPOSE change whose port is no number: dockerd's port parser refuses it at the commit.
source "docker" "a" {
  image   = "REGISTRY/busybox:latest"
  commit  = true
  changes = ["EXPOSE 80 abc/tcp"]
}
build {
  sources = ["source.docker.a"]
}
