packer {
  required_version = ">= 1.10.0"
}

variable "name" {
  type        = string
  default     = "potato"
  description = "A name"
}

variable "unset" {
  type = string
}

variable "secret" {
  type      = string
  default   = "hunter2"
  sensitive = true
}

variable "zeta" {
  type    = list(number)
  default = [3, 1]
}

variable "alpha" {
  type    = map(string)
  default = { k = "v \"q\"" }
}

locals {
  greeting = "hello ${var.name}"
  srcs     = ["source.null.first", "source.file.second"]
  masked   = "pre-${var.secret}-post"
}

local "lone" {
  expression = upper(var.name)
}

data "null" "d" {
  input = "data-${var.name}"
}

source "null" "first" {
  communicator = "none"
}

source "file" "second" {
  content = local.greeting
  target  = "out-${var.name}.txt"
}

build {
  name        = "main"
  description = "the main build"
  sources     = local.srcs

  provisioner "shell-local" {
    inline = ["echo ${data.null.d.output}"]
  }

  provisioner "sleep" {
    name     = "nap"
    duration = "1ms"
  }

  post-processor "manifest" {
    output = "manifest.json"
  }

  post-processors {
    post-processor "artifice" {
      files = ["out-potato.txt"]
    }
    post-processor "checksum" {
      checksum_types = ["md5"]
      output         = "sums.{{.ChecksumType}}"
    }
  }
}

build {
  sources = ["null.first"]
}
