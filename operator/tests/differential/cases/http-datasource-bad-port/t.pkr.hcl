data "http" "x" {
  url = "http://127.0.0.1:99999/"
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["null.a"]
}
