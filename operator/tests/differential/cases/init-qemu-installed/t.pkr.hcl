packer {
  required_plugins {
    qemu = {
      source  = "github.com/hashicorp/qemu"
      version = ">= 1.0.0"
    }
  }
}

source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]
}
