source "qemu" "a" {
  iso_url      = "debian.iso"
  iso_checksum = "none"
  ssh_username = "root"
  accelerator  = "tcg"
  cpus         = 0
  memory       = 5
}
build {
  sources = ["source.qemu.a"]
}
