# A cd_label xorriso refuses (over 32 characters): its FAILURE lines streamed, then the SDK's
# CD step fails with the command's exit status, recorded but not said.
source "qemu" "x" {
  iso_url          = "GUESTS/iso/kiln-boot.iso"
  iso_checksum     = "sha256:ISO_SHA256"
  accelerator      = "tcg"
  headless         = true
  disk_size        = "32M"
  output_directory = "output"
  communicator     = "none"
  cd_content       = { "a.txt" = "x" }
  cd_label         = "this-label-is-way-too-long-for-iso9660-volume-ids"
}
build {
  sources = ["source.qemu.x"]
}
