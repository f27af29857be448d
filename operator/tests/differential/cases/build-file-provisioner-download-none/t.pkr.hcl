source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "file" {
    source      = "/etc/hostname"
    destination = "h"
    direction   = "download"
  }
}
