# A local that fails (an undeclared variable as its key) after the locals it reads: those
# are always evaluated before it, whatever order Packer's graph walk takes.
locals {
  images = {
    "ubuntu22" = {
      sku  = "jammy"
      size = 75
    },
    "ubuntu24" = {
      sku  = "noble"
      size = 80
    },
  }
  prefix = "img"
  name   = "${local.prefix}-${local.images[var.image_os].sku}"
}
