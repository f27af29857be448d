variable "x" {
  type = number
  foo = 1
}
source "null" {
  communicator = "none"
}
build {
  sources = ["null.a"]
}
