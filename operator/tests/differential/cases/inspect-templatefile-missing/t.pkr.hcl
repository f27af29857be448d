variable "who" {
  type = string
}

locals {
  missing = templatefile("${path.root}/nope.tpl", { name = var.who })
}
