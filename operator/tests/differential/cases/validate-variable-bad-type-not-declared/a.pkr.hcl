variable "name" {
  type    = int
  default = "x"
}
