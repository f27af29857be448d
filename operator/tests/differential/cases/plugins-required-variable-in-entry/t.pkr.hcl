packer {
  required_plugins {
    docker = {
      source  = var.docker_source
      version = ">= 1.0"
    }
    qemu = {
      source  = "github.com/hashicorp/qemu"
      version = lower(">= 1.0")
    }
  }
}
