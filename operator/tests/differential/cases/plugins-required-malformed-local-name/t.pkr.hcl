packer {
  required_plugins {
    Docker = {
      source  = "github.com/hashicorp/packer-plugin-docker"
      version = ">= 1, banana"
    }
  }
}
