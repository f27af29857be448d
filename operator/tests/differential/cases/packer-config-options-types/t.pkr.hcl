source "null" "a" {
  communicator = "none"
  packer_force = "maybe"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline                = ["true"]
    packer_user_variables = "x"
  }
}
