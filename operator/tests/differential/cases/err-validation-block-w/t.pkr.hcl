variable "x" {
  default = "a"
  validation {
    error_message = "${var.x} no."
  }
}
variable "y" {
  default = "a"
  validation {
    condition = var.y == "a" && local.z == 1 && var.x == ""
    error_message = "\"y\" is wrong"
  }
}
variable "z" {
  default = "a"
  validation {
    condition = var.z == "a"
    error_message = ""
  }
  validation {
    condition = var.z == "a"
    error_message = 1
  }
  validation {
    condition = var.z == "a"
    error_message = "1 is wrong!"
  }
  validation {
  }
}
