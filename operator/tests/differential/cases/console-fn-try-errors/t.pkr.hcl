variable "m" {
  default = { a = 1 }
}
locals {
  l = [1, 2]
}
