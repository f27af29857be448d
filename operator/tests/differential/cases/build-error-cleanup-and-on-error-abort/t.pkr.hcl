source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["echo first", "false"]
  }
  error-cleanup-provisioner "shell-local" {
    inline = ["echo cleaning"]
  }
}
