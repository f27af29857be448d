packer {
  required_version = var.packer_version
}
