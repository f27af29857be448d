data "http" "x" {
  url = "http://[::1"
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["null.a"]
}
