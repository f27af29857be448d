variable "foo" {
  default = "bar"
}

variable "secret" {
  default   = "hunter2"
  sensitive = true
}

locals {
  greeting = "hello ${var.foo}"
}
