# An output directory under a file: the plugin's MkdirAll fails (`mkdir f: not a directory`),
# recorded but not said, and its cleanup still says it deletes the directory.
source "qemu" "under-file" {
  iso_url          = "GUESTS/iso/kiln-boot.iso"
  iso_checksum     = "sha256:ISO_SHA256"
  accelerator      = "tcg"
  headless         = true
  disk_size        = "32M"
  output_directory = "f/out"
  communicator     = "none"
}
build {
  sources = ["source.qemu.under-file"]
}
