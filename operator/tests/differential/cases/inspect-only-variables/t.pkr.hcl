variable "b" {
  default = "x"
}
variable "a" {
  default = 1
}
