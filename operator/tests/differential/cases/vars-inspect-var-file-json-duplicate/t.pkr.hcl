variable "n" {
  type    = number
  default = 1
}
variable "l" {
  type    = list(string)
  default = []
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
}
