# `n` has a default: Packer reports the variables' errors in Go map order, so the case
# keeps to one.
variable "n" {
  type    = number
  default = 1
}
variable "s" {
  type = string
  validation {
    condition     = length(var.s) > 4
    error_message = "Too short."
  }
}
