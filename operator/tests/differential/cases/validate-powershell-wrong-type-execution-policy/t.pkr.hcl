source "null" "b" {
  communicator = "none"
}
build {
  sources = ["null.b"]
  provisioner "powershell" {
    inline           = ["x"]
    execution_policy = ["bypass"]
  }
}
