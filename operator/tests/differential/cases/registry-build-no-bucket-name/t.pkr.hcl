source "file" "a" {
  content = "x"
  target  = "out.txt"
}

build {
  hcp_packer_registry {
    description = "No bucket."
  }
  sources = ["source.file.a"]
}
