source "null" "b" {
  communicator = "none"
}

build {
  sources = ["null.b"]

  provisioner "powershell" {
    inline = ["echo"]
  }

  error-cleanup-provisioner "windows-restart" {}
}
