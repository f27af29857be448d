# An exec_user the image lacks: docker exec starts, says runc's lookup error and exits
# 126; the script fails with that status (no retry: the command started).
source "docker" "a" {
  image     = "REGISTRY/busybox:latest"
  discard   = true
  exec_user = "nobody2"
}
build {
  sources = ["source.docker.a"]
  provisioner "shell" {
    inline = ["id"]
  }
}
