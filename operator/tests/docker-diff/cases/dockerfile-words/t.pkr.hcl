# Words as Docker's lexer reads them in a Dockerfile: quoted and escaped ENV values (and the
# old `ENV KEY value` form), single quotes keeping a `$`, `${VAR:-default}`, two ARGs in
# one instruction (a default in quotes), a quoted WORKDIR and COPY source; the image's environment seen by a provisioner.
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
    inline = ["echo \"$A|$B|$C|$D|$OLD|$E\"", "pwd", "cat f.txt"]
  }
}
