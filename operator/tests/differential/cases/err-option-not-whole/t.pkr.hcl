source "null" "a" {
  communicator = "ssh"
  ssh_host     = "127.0.0.1"
  ssh_username = "u"
  ssh_password = "p"
  ssh_port     = 22.5
}
build {
  sources = ["source.null.a"]
}
