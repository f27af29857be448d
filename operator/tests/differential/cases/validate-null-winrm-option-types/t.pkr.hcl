source "null" "a" {
  communicator = "none"
  winrm_port   = "x"
}

build {
  sources = ["source.null.a"]
}
