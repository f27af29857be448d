# A qemu_binary name that is not in $PATH: exec.LookPath's "executable file not found".
source "qemu" "notinpath" {
  iso_url          = "GUESTS/iso/kiln-boot.iso"
  iso_checksum     = "sha256:ISO_SHA256"
  accelerator      = "tcg"
  headless         = true
  qemu_binary      = "qemu-system-kiln"
  output_directory = "output2"
  communicator     = "none"
}
build {
  sources = ["source.qemu.notinpath"]
}
