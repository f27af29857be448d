packer {
  required_plugins {
    amazon = {
      version = ">= 1.2.0, < 2.0.0"
      source  = "github.com/hashicorp/amazon"
    }
  }
}
