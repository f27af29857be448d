source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["echo failing", "exit 7"]
  }
  post-processor "manifest" {}
}
