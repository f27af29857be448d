source "qemu" "a" {
  iso_url      = "debian.iso"
  iso_checksum = "none"
  ssh_username = "root"
  vnc_port_min = 5000
  vnc_port_max = 70000
}
build {
  sources = ["source.qemu.a"]
}
