variable "x" {
  default = "a"
  validation {
    condition = vr.x == "a"
    error_message = "no."
  }
}
