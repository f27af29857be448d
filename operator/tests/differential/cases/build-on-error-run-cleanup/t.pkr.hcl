source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["exit 2"]
  }
  provisioner "shell-local" {
    inline = ["echo never"]
  }
  error-cleanup-provisioner "shell-local" {
    inline = ["echo cleanup ran"]
  }
}
