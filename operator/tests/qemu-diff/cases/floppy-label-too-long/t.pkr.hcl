# A floppy_label over 8 bytes: the SDK's floppy step fails (go-fat's "OEMName must be 8
# bytes or less"), recorded but not said.
source "qemu" "x" {
  iso_url          = "GUESTS/iso/kiln-boot.iso"
  iso_checksum     = "sha256:ISO_SHA256"
  accelerator      = "tcg"
  headless         = true
  disk_size        = "32M"
  output_directory = "output"
  communicator     = "none"
  floppy_content   = { "a.txt" = "x" }
  floppy_label     = "waytoolonglabel"
}
build {
  sources = ["source.qemu.x"]
}
