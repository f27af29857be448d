source "qemu" "a" {
  iso_url      = "a.iso"
  iso_urls     = ["b.iso"]
  iso_checksum = "none"
}
build {
  sources = ["source.qemu.a"]
}
