# An ENV change without arguments: BuildKit's parser in dockerd refuses it at the commit.
source "docker" "a" {
  image   = "REGISTRY/busybox:latest"
  commit  = true
  changes = ["ENV"]
}
build {
  sources = ["source.docker.a"]
}
