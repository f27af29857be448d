variable "a" {
  default = "x
}
