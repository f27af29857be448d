source "qemu" "a" {
  iso_url      = "debian.iso"
  iso_checksum = "none"
  ssh_username = "root"
  cpus         = -1
  sockets      = -2
  cores        = -3
  threads      = -4
}
build {
  sources = ["source.qemu.a"]
}
