# A change the daemon refuses when the container is committed (docker commit --change),
# in dockerd 20.10's words: an unknown instruction.
source "docker" "a" {
  image   = "REGISTRY/busybox:latest"
  commit  = true
  changes = ["ENV A=1", "BOGUS x"]
}
build {
  sources = ["source.docker.a"]
}
