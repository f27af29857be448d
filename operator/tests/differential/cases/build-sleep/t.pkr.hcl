source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "sleep" {
    duration = "10ms"
  }
}
