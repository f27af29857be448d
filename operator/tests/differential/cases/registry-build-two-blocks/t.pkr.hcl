hcp_packer_registry {
  bucket_name = "abc"
}

source "file" "f" {
  content = "x"
  target  = "x.txt"
}

build {
  hcp_packer_registry {
    bucket_name = "def"
  }
  sources = ["source.file.f"]
}
