packer {
  required_version = ">= 1.10.0"
}

variable "greeting" {
  type        = string
  default     = "Hello"
  description = "What the build says."
}

variable "who" {
  type = string
  validation {
    condition     = length(var.who) > 0
    error_message = "The who variable must not be empty."
  }
}

variable "api_token" {
  type      = string
  default   = "s3cr3t-token"
  sensitive = true
}

locals {
  message = "${var.greeting}, ${var.who}!"
  out_dir = "${path.root}/output"
}
