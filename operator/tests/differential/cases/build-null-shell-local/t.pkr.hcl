variable "who" {
  default = "world"
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["echo hello ${var.who}", "echo to stderr >&2"]
  }
  provisioner "shell-local" {
    environment_vars = ["FOO=bar"]
    inline           = ["echo FOO=$FOO PACKER_BUILD_NAME=$PACKER_BUILD_NAME PACKER_BUILDER_TYPE=$PACKER_BUILDER_TYPE"]
  }
}
