locals {
  a = local.a
  b = "fine"
}
