source "null" "b" {
  communicator = "none"
}
build {
  sources = ["null.b"]
  provisioner "windows-shell" {
    inline              = ["x"]
    start_retry_timeout = "soon"
  }
}
