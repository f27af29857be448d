# pull = false and an image the daemon lacks: StepPull's two errors, then docker run
# pulls it and fails.
source "docker" "a" {
  image   = "REGISTRY/neverpulled:2"
  pull    = false
  discard = true
}
build {
  sources = ["source.docker.a"]
}
