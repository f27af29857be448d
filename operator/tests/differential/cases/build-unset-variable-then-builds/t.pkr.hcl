variable "region" {
  type = string
}
locals {
  r = "${var.region}-x"
  u = upper(var.region)
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a", "source.null.b"]
  provisioner "shell-local" {
    inline = ["echo ${local.r}"]
  }
}
