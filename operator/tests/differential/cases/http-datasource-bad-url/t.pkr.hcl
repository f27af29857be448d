data "http" "x" {
  url = "http://127.0.0.1:1/nothing"
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["null.a"]
}
