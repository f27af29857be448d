source "qemu" "a" {
  iso_url            = "debian.iso"
  iso_checksum       = "none"
  ssh_username       = "root"
  format             = "vmdk"
  accelerator        = "bogus"
  disk_interface     = "floppy"
  disk_cache         = "sometimes"
  disk_discard       = "maybe"
  disk_detect_zeroes = "yes"
  net_device         = "e1000-not-a-device"
}
build {
  sources = ["source.qemu.a"]
}
