source "file" "t" {
  content = "x"
  target  = "out"
}

hcp_packer_registry {
  bucket_name = "first-bucket"
  labels = {
    "foo" = "bar"
  }
}

build {
  sources = ["source.file.t"]
}
