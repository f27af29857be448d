source "null" "a" {
  communicator = "none"
  nope = 1
}
build {
  sources = ["null.a"]
}
