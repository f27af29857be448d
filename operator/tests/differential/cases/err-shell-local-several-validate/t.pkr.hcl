source "null" "a" {
  communicator = "none"
}
build {
  sources = ["null.a"]
  provisioner "shell-local" {
    name             = "first"
    command          = "b"
    inline           = ["a"]
    script           = "missing.sh"
    environment_vars = ["=x", "nokey", "OK=1"]
  }
}
