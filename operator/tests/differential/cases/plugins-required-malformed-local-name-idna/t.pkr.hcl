packer {
  required_plugins {
    my_plugin = {
      source  = "github.com/hashicorp/docker"
      version = ">= 1"
    }
  }
  required_plugins {
    Foo- = {
      source  = "github.com/hashicorp/docker"
      version = ">= 1"
    }
  }
  required_plugins {
    a--b = {
      source  = "github.com/hashicorp/docker"
      version = ">= 1"
    }
  }
  required_plugins {
    Café = {
      source  = "github.com/hashicorp/docker"
      version = ">= 1"
    }
  }
}
