source "null" "b" {
  communicator = "none"
}
build {
  sources = ["null.b"]
  provisioner "powershell" {
    inline = []
    execution_policy = "9"
    debug_mode = 1.5
  }
}
