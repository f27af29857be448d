packer {
  required_plugins {
    docker = ">= 1.0.0"
  }
}
