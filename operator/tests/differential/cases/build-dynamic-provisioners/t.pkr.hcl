locals {
  msgs = ["a", "b"]
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  dynamic "provisioner" {
    for_each = local.msgs
    labels   = ["shell-local"]
    content {
      inline = ["echo ${provisioner.value}"]
    }
  }
}
