packer {
  required_plugins {
    parallels = {
      version = ">= 1.1.2"
      source  = "github.com/Parallels/parallels"
    }
  }
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
}
