variable "n" {
  default = 2
}

variable "l" {}
