data "http" "x" {
  url = "http://nonexistent.invalid/"
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["null.a"]
}
