source "null" "a" {
  communicator = "none"
}
build {
  sources = ["null.a"]
  provisioner "shell" {
    script           = "x.sh"
    scripts          = ["y.sh"]
    inline           = ["echo"]
    environment_vars = ["=v"]
  }
}
