source "null" "b" {
  communicator = "none"
}
build {
  sources = ["null.b"]
  provisioner "windows-shell" {
    inline           = ["x"]
    execution_policy = "bypass"
  }
}
