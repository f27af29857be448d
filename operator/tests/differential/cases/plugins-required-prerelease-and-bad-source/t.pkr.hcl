packer {
  required_plugins {
    tester = {
      source  = "hashicups"
      version = ">= 1.0.0-beta.1, < 2"
    }
  }
}
