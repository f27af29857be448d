source "null" "b" {
  communicator = "none"
}
build {
  sources = ["null.b"]
  provisioner "windows-restart" {
    registry_keys = "k"
  }
}
