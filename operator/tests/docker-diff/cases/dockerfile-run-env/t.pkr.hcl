# What a Dockerfile's RUN sees (dockerd's classic builder runs it in a container of its
# own): its host name (12 hex digits) and HOSTNAME, /.dockerenv, /etc/hosts, /etc/hostname,
# /etc/resolv.conf, the environment's names; written into the image, listed by a provisioner.
source "docker" "a" {
  build {
    path      = "Dockerfile"
    arguments = { BASE = "REGISTRY/busybox:latest" }
  }
  discard = true
}
build {
  sources = ["source.docker.a"]
  provisioner "shell" {
    inline = ["cd /probe && for f in *; do echo \"$f: $(cat $f)\"; done"]
  }
}
