source "qemu" "a" {
  iso_urls     = ["debian.iso"]
  iso_checksum = "crc32:abcd"
  ssh_username = "root"
}
build {
  sources = ["source.qemu.a"]
}
