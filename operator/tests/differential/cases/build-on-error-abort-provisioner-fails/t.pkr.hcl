source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["echo before", "exit 3"]
  }
  provisioner "shell-local" {
    inline = ["echo never"]
  }
}
