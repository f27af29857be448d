packer {
  required_plugins {
    docker = {
      source  = var.docker_source
      version = ">= 1.0"
    }
  }
}
