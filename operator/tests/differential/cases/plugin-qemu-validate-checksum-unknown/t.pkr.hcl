source "qemu" "a" {
  iso_url      = "debian.iso"
  iso_checksum = "abcd"
  ssh_username = "root"
}
build {
  sources = ["source.qemu.a"]
}
