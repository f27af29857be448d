data "http" "x" {
  url = "http://"
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["null.a"]
}
