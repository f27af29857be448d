source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    max_retries = 1
    inline      = ["echo nope; exit 2"]
  }
}
