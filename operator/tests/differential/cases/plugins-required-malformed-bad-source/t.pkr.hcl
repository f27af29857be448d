packer {
  required_plugins {
    docker = {
      source  = "docker"
      version = ">= 1.0.0"
    }
  }
}
