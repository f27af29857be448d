# An output directory that exists (here: this case's own directory) without -force.
source "qemu" "small" {
  iso_url          = "GUESTS/iso/kiln-boot.iso"
  iso_checksum     = "sha256:ISO_SHA256"
  accelerator      = "tcg"
  headless         = true
  output_directory = "."
  ssh_username     = "root"
  ssh_password     = "kiln"
}
build {
  sources = ["source.qemu.small"]
}
