source "null" "b" {
  communicator = "none"
}
build {
  sources = ["null.b"]
  provisioner "powershell" {
    script = "a.ps1"
    scripts = ["b.ps1"]
    inline = ["x"]
    elevated_password = "x"
    execution_policy = "9"
    debug_mode = 3
    environment_vars = ["=x", "y"]
  }
}
