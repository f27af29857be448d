source "qemu" "a" {
  iso_url      = "debian.iso"
  iso_checksum = "sha256:xyz"
  ssh_username = "root"
}
build {
  sources = ["source.qemu.a"]
}
