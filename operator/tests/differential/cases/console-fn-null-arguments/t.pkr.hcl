variable "x" {
  type    = string
  default = null
}
variable "y" {
  default = null
}
locals {
  z = null
}
