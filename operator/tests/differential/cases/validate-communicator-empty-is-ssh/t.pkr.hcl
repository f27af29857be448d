source "null" "a" {
  communicator = ""
}

build {
  sources = ["source.null.a"]
}
