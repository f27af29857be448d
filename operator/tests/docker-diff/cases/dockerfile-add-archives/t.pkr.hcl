# ADD of archives from the build directory: xz, bzip2 and gzip tars and a plain tar whose
# name says nothing are extracted with their entries' owners, modes and times; a gzip file
# that holds no tar and an empty tar are copied as they are, as COPY copies (times kept).
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
    inline = [
      "cd /x && busybox find . -mindepth 2 | sort | while read -r f; do busybox stat -c '%a %u:%g %s %Y %F %n' \"$f\"; done",
      "cat /x/xz/a/x.txt /x/bz2/b/y.txt /x/gz/a/deep/d.txt", "readlink /x/dat/b/y-link",
    ]
  }
}
