source "null" "b" {
  communicator = "none"
}
build {
  sources = ["null.b"]
  provisioner "windows-restart" {
    execute_command = "x"
  }
}
