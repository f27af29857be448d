# An http_directory that does not exist: the SDK's HTTP step says it (Error finding "nodir").
source "qemu" "x" {
  iso_url          = "GUESTS/iso/kiln-boot.iso"
  iso_checksum     = "sha256:ISO_SHA256"
  accelerator      = "tcg"
  headless         = true
  disk_size        = "32M"
  output_directory = "output"
  communicator     = "none"
  http_directory   = "nodir"
}
build {
  sources = ["source.qemu.x"]
}
