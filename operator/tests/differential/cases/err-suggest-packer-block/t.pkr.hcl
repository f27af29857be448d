packer {
  required_version = ">= 1.0"
  requierd_plugins {}
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
}
