source "null" "a" {
  communicator = "none"
}
build {
  sources = ["null.a"]
  provisioner "shell" {
    inline = []
  }
}
