source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  post-processor "manifest" {
    outptu = "m.json"
  }
}
