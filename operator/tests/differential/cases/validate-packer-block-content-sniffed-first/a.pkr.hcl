packer {
  version = ">= 1.0.0"
  required_version = ">= 1.0.0"
  plugins {}
}
