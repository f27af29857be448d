data "cloud-image" "latest" {
  name = "debian"
}

locals {
  image   = data.cloud-image.latest.id
  derived = "${local.image}-copy"
}

source "null" "x" {
  communicator = "none"
}

build {
  sources = ["source.null.x"]
}
