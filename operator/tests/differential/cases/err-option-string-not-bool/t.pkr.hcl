source "null" "a" {
  communicator   = "ssh"
  ssh_host       = "127.0.0.1"
  ssh_username   = "u"
  ssh_agent_auth = "maybe"
}
build {
  sources = ["source.null.a"]
}
