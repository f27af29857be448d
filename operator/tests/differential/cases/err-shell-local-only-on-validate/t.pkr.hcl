source "null" "a" {
  communicator = "none"
}
build {
  sources = ["null.a"]
  provisioner "shell-local" {
    inline  = ["a"]
    only_on = ["linux", "plan9"]
    environment_vars = ["=x"]
  }
}
