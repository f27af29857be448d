source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "file" {
    content     = "hello"
    destination = "/tmp/x"
  }
}
