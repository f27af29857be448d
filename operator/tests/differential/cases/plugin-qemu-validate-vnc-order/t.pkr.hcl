source "qemu" "a" {
  iso_url      = "debian.iso"
  iso_checksum = "none"
  ssh_username = "root"
  vnc_port_min = 6100
  vnc_port_max = 6000
}
build {
  sources = ["source.qemu.a"]
}
