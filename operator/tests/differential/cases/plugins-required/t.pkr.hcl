packer {
  required_plugins {
    qemu = {
      version = "~> 1.1"
      source  = "github.com/hashicorp/qemu"
    }
  }
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
}
