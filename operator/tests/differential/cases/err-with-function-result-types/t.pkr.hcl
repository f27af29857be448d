variable "l1" {
  type    = list(string)
  default = ["a", "b"]
}
variable "l2" {
  type    = list(string)
  default = ["c"]
}
variable "m1" {
  type    = map(string)
  default = { a = "x" }
}
variable "m2" {
  type    = map(string)
  default = { b = "y" }
}
locals {
  c  = concat(var.l1, var.l2)
  ct = concat(var.l1, ["z"])
  m  = merge(var.m1, var.m2)
  v  = values(var.m1)
  k  = keys(var.m2)
  r  = reverse(var.l1)
  s  = slice(var.l1, 0, 1)
  z  = zipmap(var.l1, var.l1)
}
