variable "who" {
  default = "world"
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    # stdout and stderr are two pipes read at once: the pause keeps the order of the two
    # lines the same in both tools (the interleaving of two pipes is not an ordering).
    inline = ["echo hello ${var.who}", "sleep 0.5", "echo to stderr >&2"]
  }
  provisioner "shell-local" {
    environment_vars = ["FOO=bar"]
    inline           = ["echo FOO=$FOO PACKER_BUILD_NAME=$PACKER_BUILD_NAME PACKER_BUILDER_TYPE=$PACKER_BUILDER_TYPE"]
  }
}
