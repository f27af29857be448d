source "null" "b" {
  communicator = "none"
}
build {
  sources = ["null.b"]
  provisioner "powershell" {
    inline = []
  }
  provisioner "powershell" {
    script = ""
    inline = ["x"]
  }
}
