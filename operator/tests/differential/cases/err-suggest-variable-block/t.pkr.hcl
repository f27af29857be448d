variable "x" {
  default = 1
  validaton {
  }
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
}
