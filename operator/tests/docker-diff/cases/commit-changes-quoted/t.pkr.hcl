# `changes` whose ENV and LABEL values are quoted (spaces inside) and expanded: dockerd
# accepts them at the commit.
source "docker" "a" {
  image  = "REGISTRY/busybox:latest"
  commit = true
  changes = [
    "ENV GREETING=\"hello world\" QUOTED='$PATH' OLD=x",
    "ENV LEGACY value with  spaces",
    "LABEL \"org.example.key with space\"=\"v\" other=$${PATH:-none}",
    "WORKDIR \"/srv/my app\"",
  ]
}
build {
  sources = ["source.docker.a"]
}
