# A Dockerfile whose RUN fails: the build fails at its first step.
source "docker" "a" {
  build {
    path      = "Dockerfile"
    arguments = { BASE = "REGISTRY/busybox:latest" }
  }
  discard = true
}
build {
  sources = ["source.docker.a"]
}
