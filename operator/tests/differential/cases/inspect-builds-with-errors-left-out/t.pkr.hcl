source "null" "a" {
  communicator = "none"
}

build {
  name    = "broken"
  sources = ["source.null.a"]
  error-cleanup-provisioner "shell-local" {
    inline = ["echo one"]
  }
  error-cleanup-provisioner "shell-local" {
    inline = ["echo two"]
  }
}

build {
  name    = "registry"
  sources = ["source.null.a"]
  hcp_packer_registry {
    bucket_name = "b1-ok"
  }
  hcp_packer_registry {
    bucket_name = "b2-ok"
  }
}

build {
  name    = "fine"
  sources = ["source.null.a"]
}
