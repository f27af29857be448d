source "qemu" "a" {
  iso_url           = "debian.iso"
  iso_checksum      = "none"
  communicator      = "ssh"
  ssh_username      = "root"
  ssh_host_port_min = 2300
  ssh_host_port_max = 2400
  accelerator       = "tcg"
}
build {
  sources = ["source.qemu.a"]
}
