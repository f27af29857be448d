packer {
  required_versoin = ">= 1.0"
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
}
