source "null" "a" {
  communicator            = "none"
  ssh_timeout             = "bad"
  pause_before_connecting = "x"
  winrm_timeout           = 30
}

build {
  sources = ["source.null.a"]
}
