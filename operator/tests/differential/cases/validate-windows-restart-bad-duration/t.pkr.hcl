source "null" "b" {
  communicator = "none"
}
build {
  sources = ["null.b"]
  provisioner "windows-restart" {
    restart_timeout = "x"
  }
}
