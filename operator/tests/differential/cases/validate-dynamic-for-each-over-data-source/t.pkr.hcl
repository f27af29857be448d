variable "v" {
  type = list(string)
}

data "null" "d" {
  input = "x"
}

source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]

  dynamic "provisioner" {
    for_each = var.v
    labels   = ["shell-local"]
    content {
      inline = ["echo ${provisioner.value}"]
      bogus = 1
    }
  }

  dynamic "provisioner" {
    for_each = data.null.d.output == "x" ? [1] : []
    labels   = ["shell-local"]
    content {
      inline = ["echo data ${provisioner.value}"]
    }
  }
}
