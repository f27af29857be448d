# A multi-stage Dockerfile as the base image: only the last stage's files, with what it
# copied from the others (`COPY --from` by stage name, by index, a directory).
source "docker" "a" {
  build {
    path      = "Dockerfile"
    arguments = { BASE = "REGISTRY/busybox:latest" }
  }
  commit = true
}
build {
  sources = ["source.docker.a"]
  provisioner "shell" {
    inline = [
      "busybox stat -c '%a %u:%g %s %F %n' /usr/local/bin/app /opt/tested /opt/all/*",
      "cat /usr/local/bin/app /opt/tested", "readlink /opt/all/app-link",
      "test -e /build && echo build dir leaked || echo no build dir",
    ]
  }
}
