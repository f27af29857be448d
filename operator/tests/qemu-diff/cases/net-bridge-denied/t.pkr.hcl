# A bridge qemu's bridge helper may not use (not in /etc/qemu/bridge.conf): qemu fails to start.
source "qemu" "br" {
  iso_url          = "GUESTS/iso/kiln-boot.iso"
  iso_checksum     = "sha256:ISO_SHA256"
  accelerator      = "tcg"
  headless         = true
  net_bridge       = "br-kiln-deny"
  output_directory = "output"
  ssh_username     = "root"
  ssh_password     = "x"
  ssh_timeout      = "1m"
}
build {
  sources = ["source.qemu.br"]
}
