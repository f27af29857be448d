data "http" "x" {
  url = "http://host name/"
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["null.a"]
}
