source "docker" "a" {
  image  = "debian:bookworm"
  pull   = true
  commit = true
  build {
    path = "missing/Dockerfile"
  }
}
source "docker" "b" {
  discard = true
  pull    = true
  build {
    path      = "Dockerfile"
    build_dir = "t.pkr.hcl"
  }
}
source "docker" "c" {
  discard = true
  build {
    arguments = { A = "b" }
  }
}
source "docker" "d" {
  image   = "debian:bookworm"
  discard = true
  build {}
}
build {
  sources = ["source.docker.a", "source.docker.b", "source.docker.c", "source.docker.d"]
}
