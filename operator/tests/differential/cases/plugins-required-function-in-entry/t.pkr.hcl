packer {
  required_plugins {
    qemu = {
      source  = "github.com/hashicorp/qemu"
      version = lower(">= 1.0")
    }
  }
}
