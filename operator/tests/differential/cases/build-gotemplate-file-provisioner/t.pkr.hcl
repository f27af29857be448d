# The file provisioner's content and destination, rendered when it is prepared.
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "file" {
    direction   = "download"
    source      = "/etc/hostname"
    destination = "copy-{{ build_name }}.txt"
  }
  provisioner "breakpoint" {
    disable = true
    note    = "for {{ build_name }}"
  }
}
