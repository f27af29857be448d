source "qemu" "a" {
  iso_url      = "debian.iso"
  ssh_username = "root"
}
build {
  sources = ["source.qemu.a"]
}
