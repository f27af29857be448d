source "qemu" "a" {
  iso_url      = "debian.iso"
  iso_checksum = "none"
  ssh_username = "root"
  net_device   = "not-a-device"
  accelerator  = "tcg"
}
build {
  sources = ["source.qemu.a"]
}
