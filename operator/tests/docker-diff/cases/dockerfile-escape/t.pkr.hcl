# A Dockerfile whose `# escape=` directive makes the backtick its continuation character.
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
    inline = ["cat /e.txt"]
  }
}
