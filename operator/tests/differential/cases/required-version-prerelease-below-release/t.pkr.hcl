packer {
  required_version = "> 1.16.0-dev"
}

source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]
}
