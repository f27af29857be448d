source "null" "b" {
  communicator = "none"
}
build {
  sources = ["null.b"]
  provisioner "powershell" {
    inline = ["x"]
    execution_policy = "foo"
    start_retry_timeout = "x"
    pause_after = "1y"
  }
}
