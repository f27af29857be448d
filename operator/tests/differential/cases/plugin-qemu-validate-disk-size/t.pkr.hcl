source "qemu" "a" {
  iso_url      = "debian.iso"
  iso_checksum = "none"
  ssh_username = "root"
  disk_size    = "10 gigs"
  format       = "raw"
  use_backing_file = true
  skip_resize_disk = true
}
build {
  sources = ["source.qemu.a"]
}
