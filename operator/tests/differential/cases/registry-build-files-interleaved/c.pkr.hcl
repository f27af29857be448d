build {
  hcp_packer_registry {
    bucket_name = "x"
  }
  hcp_packer_registry {
    bucket_name = "y"
  }
  sources = ["source.file.u"]
}

hcp_packer_registry {
  description = "third"
}

source "file" "t" {
  content = "z"
  target  = "out"
}

build {
  sources = ["source.virtualbox-iso.v", "source.file.nope"]
}
