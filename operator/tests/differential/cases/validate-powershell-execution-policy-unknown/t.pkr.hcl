source "null" "b" {
  communicator = "none"
}
build {
  sources = ["null.b"]
  provisioner "powershell" {
    inline = ["echo"]
    execution_policy = "foo"
    debug_mode = 5
    elevated_password = "x"
  }
}
