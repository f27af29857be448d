# An iso_url that does not exist: the download step's error; nothing is left behind.
source "qemu" "small" {
  iso_url          = "GUESTS/iso/missing.iso"
  iso_checksum     = "sha256:ISO_SHA256"
  accelerator      = "tcg"
  headless         = true
  output_directory = "out"
  communicator     = "none"
}
build {
  sources = ["source.qemu.small"]
}
