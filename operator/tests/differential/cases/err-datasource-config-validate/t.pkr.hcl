data "http" "x" {
  method = "FETCH"
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["null.a"]
}
