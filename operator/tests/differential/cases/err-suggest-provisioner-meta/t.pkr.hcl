source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline      = ["echo"]
    pause_befor = "1s"
  }
}
