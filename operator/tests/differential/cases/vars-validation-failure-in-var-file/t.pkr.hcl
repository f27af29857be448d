variable "n" {
  type = number
}
variable "s" {
  type = string
  validation {
    condition     = length(var.s) > 4
    error_message = "Too short."
  }
}
