packer {
  required_plugins {
    docker = {
      source  = "github.com/hashicorp/packer-plugin-docker"
      version = 1
    }
  }
}
