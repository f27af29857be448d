source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    command = "echo"
    inline  = ["echo"]
  }
}
