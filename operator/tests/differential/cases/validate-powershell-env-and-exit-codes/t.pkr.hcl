source "null" "b" {
  communicator = "none"
}
build {
  sources = ["null.b"]
  provisioner "powershell" {
    inline           = ["x"]
    environment_vars = ["A=1", "B"]
    valid_exit_codes = [0, 3010]
  }
}
