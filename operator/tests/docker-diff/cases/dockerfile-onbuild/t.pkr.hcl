# ONBUILD triggers of the base (an earlier stage): run right after its FROM, in order.
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
    inline = ["cat /both.txt", "busybox stat -c '%a %u:%g %s %n' /onbuild.txt /trig /trig/trig.txt"]
  }
}
