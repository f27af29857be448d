# An additional disk size qemu-img does not read: the plugin passes it as it is, and
# stepCreateDisk fails with qemu-img's two lines.
source "qemu" "x" {
  iso_url          = "GUESTS/iso/kiln-boot.iso"
  iso_checksum     = "sha256:ISO_SHA256"
  accelerator      = "tcg"
  headless         = true
  disk_size        = "32M"
  output_directory = "output"
  communicator     = "none"
  disk_additional_size = ["1Q"]
}
build {
  sources = ["source.qemu.x"]
}
