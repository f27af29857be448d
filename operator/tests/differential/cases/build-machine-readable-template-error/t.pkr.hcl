source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  post-processor "manifest" "named" {
  }
  provisioner "shell-local" {
    inline = ["echo hi"]
  }
}
