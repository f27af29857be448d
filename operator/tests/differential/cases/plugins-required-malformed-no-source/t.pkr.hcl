packer {
  required_plugins {
    docker = {
      version = ">= 1.0.0"
    }
  }
}
