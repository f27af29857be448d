variable "s" {
  default = "hello"
}
variable "n" {
  default = 42
}
variable "l" {
  type    = list(string)
  default = ["a", "b"]
}
variable "m" {
  type    = map(number)
  default = { a = 1, b = 2 }
}
variable "o" {
  default = { a = "x", b = [1, 2] }
}
locals {
  t = ["a", 1, true]
}
