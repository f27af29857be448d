source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["echo hi, there"]
  }
  post-processor "shell-local" {
    inline = ["echo pp"]
  }
}
