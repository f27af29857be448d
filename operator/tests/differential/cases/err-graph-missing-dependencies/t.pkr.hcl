data "null" "a" {
  input = "${local.nope}-${data.null.b.output}"
}
locals {
  x = "${local.y}${local.missing.attr}${data.amazon-ami.test.id}${local.missing}"
  y = "fine"
}
