packer {
  required_plugins {
    docker = {
      source  = "github.com/hashicorp/docker"
      version = "~> banana"
      extra   = 1
    }
  }
}
