data "http" "x" {
  url = "ftp://example.com/x"
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["null.a"]
}
