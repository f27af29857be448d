# hcl 2.24's && and || short-circuit: a known false (&&) or true (||) on either side
# decides and the other side's errors are dropped; null counts as false there.
variable "opt" {
  type    = object({ name = string })
  default = null
}
locals {
  named   = var.opt != null && var.opt.name != ""
  either  = true || var.opt.name == "x"
  right   = var.opt.name == "x" && false
  nulls   = null && true
  null_or = null || true
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["echo named=${local.named} either=${local.either} right=${local.right} nulls=${local.nulls} null_or=${local.null_or}"]
  }
}
