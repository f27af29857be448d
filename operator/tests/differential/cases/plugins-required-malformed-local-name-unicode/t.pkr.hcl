packer {
  required_plugins {
    Straße = {
      source  = "github.com/hashicorp/docker"
      version = ">= 1"
    }
  }
  required_plugins {
    ﬁx = {
      source  = "github.com/hashicorp/docker"
      version = ">= 1"
    }
  }
  required_plugins {
    Ωmega = {
      source  = "github.com/hashicorp/docker"
      version = ">= 1"
    }
  }
  required_plugins {
    aⅨ = {
      source  = "github.com/hashicorp/docker"
      version = ">= 1"
    }
  }
}
