locals {
  a = "x"
  b = var.nope
  c = "${local.b}-y"
}
