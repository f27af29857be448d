packer "x" {}
