# The base image built from a Dockerfile (the `build` section: ARGs, ENV, WORKDIR, COPY of a
# directory, with --chown and of the whole context minus .dockerignore, RUN, LABEL, EXPOSE,
# CMD), then provisioned and committed; the build's values show an image id and no source
# digest.
source "docker" "a" {
  build {
    path      = "Dockerfile"
    arguments = { BASE = "REGISTRY/busybox:latest", GREETING = "hi" }
  }
  commit  = true
  changes = ["ENV EXTRA=1"]
}
build {
  sources = ["source.docker.a"]
  provisioner "shell" {
    inline = [
      "pwd", "cat greeting.txt",
      "busybox stat -c '%a %u:%g %s %n' /app /app/* /app/sub/* /opt/owned.txt",
      "ls -a /ctx /ctx/files", "echo $APP_HOME $MODE", "test -z \"${build.SourceImageDigest}\" && echo no digest",
    ]
  }
}
