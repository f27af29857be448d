source "null" "a" {
  communicator = "none"
  ssh_timeout  = "bad"
  bogus        = 1
}

build {
  sources = ["source.null.a"]
}
