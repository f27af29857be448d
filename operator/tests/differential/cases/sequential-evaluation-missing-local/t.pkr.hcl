locals {
  a = local.zz
}
