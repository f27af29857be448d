source "file" "a" {
  content = "x"
  target  = "out.txt"
}

hcp_packer_registry {
  bucket_name = "kiln-test"
  description = "A bucket."
}

build {
  sources = ["source.file.a"]
}
