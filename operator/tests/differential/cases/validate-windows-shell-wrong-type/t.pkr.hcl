source "null" "b" {
  communicator = "none"
}
build {
  sources = ["null.b"]
  provisioner "windows-shell" {
    inline           = ["x"]
    valid_exit_codes = "x"
  }
}
