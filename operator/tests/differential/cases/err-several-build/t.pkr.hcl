variable "x" {
  type = string
  default = 1
  nope = 2
}
locals {
  a = local.b
  b = local.a
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["null.zz", "null.a"]
}
