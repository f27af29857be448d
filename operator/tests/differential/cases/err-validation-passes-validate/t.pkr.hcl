variable "x" {
  default = "abcdefg"
  validation {
    condition     = length(var.x) > 5
    error_message = "The x must be long."
  }
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["null.a"]
}
