# use_linux_pathing is checked on any OS: inline commands (and `command`, which becomes one)
# are refused; a script's absolute path has no drive, which ends the checks with that error.
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    use_linux_pathing = true
    inline            = ["echo x"]
    environment_vars  = ["NOEQUALS"]
  }
  provisioner "shell-local" {
    use_linux_pathing = true
    command           = "echo x"
  }
  provisioner "shell-local" {
    use_linux_pathing = true
    script            = "t.pkr.hcl"
    environment_vars  = ["NOEQUALS"]
  }
  post-processor "shell-local" {
    use_linux_pathing = true
    inline            = ["echo x"]
  }
}
