variable "n" {
  type    = number
  default = 1
}

variable "l" {
  type    = list(string)
  default = []
}

variable "i" {
  default = 3
}

variable "d" {
  default = ["a"]
}

source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]
}
