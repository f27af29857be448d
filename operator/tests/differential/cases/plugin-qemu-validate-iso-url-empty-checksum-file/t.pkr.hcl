variable "iso_url" {
  type    = string
  default = ""
}
source "qemu" "empty" {
  iso_url      = var.iso_url
  iso_checksum = "none"
  ssh_username = "root"
}
source "qemu" "refused" {
  iso_url      = "http://127.0.0.1:1/debian.iso"
  iso_checksum = "file:http://127.0.0.1:1/SHA256SUMS"
  ssh_username = "root"
}
source "qemu" "scheme" {
  iso_url      = "debian.iso"
  iso_checksum = "file:ftp://127.0.0.1:1/SHA256SUMS"
  ssh_username = "root"
}
build {
  sources = ["source.qemu.empty", "source.qemu.refused", "source.qemu.scheme"]
}
