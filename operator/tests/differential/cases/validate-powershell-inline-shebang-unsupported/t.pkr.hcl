source "null" "b" {
  communicator = "none"
}
build {
  sources = ["null.b"]
  provisioner "powershell" {
    inline         = ["x"]
    inline_shebang = "/bin/sh"
  }
}
