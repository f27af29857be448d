source "qemu" "a" {
  iso_url          = "debian.iso"
  iso_checksum     = "none"
  ssh_username     = "root"
  output_directory = "out"
}
build {
  sources = ["source.qemu.a"]
}
