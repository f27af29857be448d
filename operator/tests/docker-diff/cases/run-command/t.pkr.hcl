# A run_command of its own: environment (-e, --env=), working directory (-w, made when
# missing), a read-only bind mount (-v …:ro), flags clustered (-dit) and the image by
# its template ({{.Image}}); the Run command line shows it as docker run gets it.
source "docker" "a" {
  image       = "REGISTRY/busybox:latest"
  discard     = true
  run_command = ["-dit", "-e", "GREETING=hi", "--env=OTHER=2", "-w", "/work/dir", "-v", "${abspath("data")}:/data:ro", "--entrypoint=/bin/sh", "--", "{{.Image}}"]
}
build {
  sources = ["source.docker.a"]
  provisioner "shell" {
    inline = [
      "echo $GREETING $OTHER", "pwd", "cat /data/in.txt",
      "touch /data/x 2>/dev/null || echo read-only",
    ]
  }
}
