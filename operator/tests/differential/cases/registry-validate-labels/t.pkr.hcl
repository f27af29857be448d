hcp_packer_registry {
  labels        = { a = "b" }
  bucket_labels = { a = "b" }
}

source "file" "f" {
  content = "x"
  target  = "x.txt"
}

build {
  sources = ["source.file.f"]
}
