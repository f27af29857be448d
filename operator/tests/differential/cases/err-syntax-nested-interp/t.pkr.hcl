build {
  sources = ["a"]
  provisioner "shell" {
    inline = ["echo ${"]
  }
}
