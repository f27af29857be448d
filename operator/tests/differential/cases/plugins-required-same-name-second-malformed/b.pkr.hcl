packer {
  required_plugins {
    docker = {
      source = "github.com/hashicorp/docker"
    }
  }
}

build {
  sources = ["source.null.a"]
}
