hcp_packer_registry {
  bucket_name   = "ubuntu-base"
  description   = "Ubuntu base image"
  bucket_labels = { os = "ubuntu" }
  build_labels  = { "build-time" = timestamp() }
  channels      = ["dev"]
  not_a_packer_argument = 3
}

source "file" "f" {
  content = "x"
  target  = "x.txt"
}

build {
  sources = ["source.file.f"]
}
