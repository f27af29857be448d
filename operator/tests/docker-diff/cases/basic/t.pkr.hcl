# A committed image, its changes, a file upload, tagged: the pull, run and commit lines.
source "docker" "a" {
  image  = "REGISTRY/busybox:latest"
  commit = true
  changes = ["ENV FOO=bar", "LABEL x=y"]
}
build {
  sources = ["source.docker.a"]
  provisioner "shell" {
    inline = ["echo hello > /hello.txt", "uname -s"]
  }
  provisioner "file" {
    content = "abc"
    destination = "/tmp/abc.txt"
  }
  post-processor "docker-tag" {
    repository = "REGISTRY/out"
    tags = ["v1"]
  }
}
