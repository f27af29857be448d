source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["exit 2"]
  }
  error-cleanup-provisioner "shell-local" {
    inline = ["echo cleaning", "exit 4"]
  }
}
