variable "m" {
  default = { a = 1 }
}

locals {
  l = [1, 2]
  x = try(
    var.m.b,
    local.l[7],
    upper("a", "b"),
  )
}

source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]
}
