variable "x" {
  default = "a"
}
locals {
  a = vra.x
}
