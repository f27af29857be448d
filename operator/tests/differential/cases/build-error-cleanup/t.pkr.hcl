source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["exit 1"]
  }
  error-cleanup-provisioner "shell-local" {
    inline = ["echo cleaning up"]
  }
}
