hcp_packer_registry {
  bucket_name = "no_underscores"
}

source "file" "f" {
  content = "x"
  target  = "x.txt"
}

build {
  sources = ["source.file.f"]
}
