variable "a" {
  default = 1
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
}
