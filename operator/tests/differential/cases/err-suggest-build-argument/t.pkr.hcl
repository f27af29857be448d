source "null" "a" {
  communicator = "none"
}
build {
  sorces = ["source.null.a"]
}
