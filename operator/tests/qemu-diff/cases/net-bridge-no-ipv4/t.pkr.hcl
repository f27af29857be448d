# A bridge without an IPv4 address: no address for the HTTP server, the build halts.
source "qemu" "br" {
  iso_url          = "GUESTS/iso/kiln-boot.iso"
  iso_checksum     = "sha256:ISO_SHA256"
  accelerator      = "tcg"
  headless         = true
  net_bridge       = "br-kiln-noip"
  output_directory = "output"
  ssh_username     = "root"
  ssh_password     = "x"
  ssh_timeout      = "1m"
}
build {
  sources = ["source.qemu.br"]
}
