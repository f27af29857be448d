source "file" "t" {
  content = "y"
  target  = "out"
}

hcp_packer_registry {
  bucket_name = "second"
}

build {
  description = "no source"
}

source "file" "u" {
  content = "y"
  target  = "out"
}
