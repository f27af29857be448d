# ADD <url> in a Dockerfile, from a static HTTP server on the loopback.
source "docker" "a" {
  build {
    path      = "Dockerfile"
    arguments = { BASE = "REGISTRY/busybox:latest", URL = "HTTP_SERVER" }
  }
  discard = true
}
build {
  sources = ["source.docker.a"]
  provisioner "shell" {
    inline = [
      "cd /x && for f in *; do busybox stat -c '%a %u:%g %s %Y %F %n' \"$f\"; done",
      "cat /x/hello.txt /x/renamed.txt", "busybox md5sum /x/listing.html",
    ]
  }
}
