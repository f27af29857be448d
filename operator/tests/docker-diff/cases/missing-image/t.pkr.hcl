# An image the registry does not have: the daemon's words, then the failed pull.
source "docker" "a" {
  image  = "REGISTRY/nope:1"
  commit = true
}
build {
  sources = ["source.docker.a"]
}
