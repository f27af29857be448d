source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "file" {
    source      = "t.pkr.hcl"
    destination = "/tmp/x"
  }
}
