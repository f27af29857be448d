source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    valid_exit_codes = [0, 4]
    inline = ["exit 4"]
  }
}
