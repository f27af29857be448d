hcp_packer_registry {
  bucket_name  = "ok-bucket"
  build_labels = ["a"]
}

source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]
}
