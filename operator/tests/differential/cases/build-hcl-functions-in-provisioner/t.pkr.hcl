locals {
  items = { b = 2, a = 1 }
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = [for k, v in local.items : "echo ${k}=${v} ${upper(k)} ${format("%03d", v)}"]
  }
}
