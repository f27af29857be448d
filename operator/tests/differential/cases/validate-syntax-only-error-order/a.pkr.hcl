locals { stamp = "a" }

variable "region" {
  default = "eu"
}
