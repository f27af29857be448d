source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell" {
    inline = ["echo hi"]
    start_retry_timeout = "3s"
  }
}
