source "null" "a" {
  communicator = "ssh"
}
build {
  sources = ["source.null.a"]
}
