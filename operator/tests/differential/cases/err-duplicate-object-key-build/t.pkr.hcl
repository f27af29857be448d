locals {
  o = { a = 1, a = 2 }
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["null.a"]
}
