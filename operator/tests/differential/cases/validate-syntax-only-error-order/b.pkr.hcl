locals { stamp = "b" }

variable "region" {
  default = "us"
}
