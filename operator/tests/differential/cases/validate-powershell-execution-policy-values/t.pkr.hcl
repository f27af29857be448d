source "null" "b" {
  communicator = "none"
}
build {
  sources = ["null.b"]
  provisioner "powershell" {
    inline           = ["x"]
    execution_policy = "ALLSIGNED"
  }
  provisioner "powershell" {
    inline           = ["x"]
    execution_policy = -1
  }
  provisioner "powershell" {
    inline           = ["x"]
    execution_policy = "+7"
  }
  provisioner "powershell" {
    inline           = ["x"]
    execution_policy = "none"
    debug_mode       = "2"
  }
}
