source "qemu" "a" {
  iso_url      = "debian.iso"
  iso_checksum = "none"
  ssh_username = "root"
  boot_command = ["<wait-1s><enter>"]
  boot_steps   = [["<enter>", "press enter"]]
  disable_vnc  = true
}
build {
  sources = ["source.qemu.a"]
}
