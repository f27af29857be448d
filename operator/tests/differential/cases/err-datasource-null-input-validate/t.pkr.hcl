data "null" "y" {
  input = ""
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["null.a"]
}
