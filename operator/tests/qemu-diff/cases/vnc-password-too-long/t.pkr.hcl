# A VNC password over 8 characters: stepConfigureVNC fails after finding its port.
source "qemu" "x" {
  iso_url          = "GUESTS/iso/kiln-boot.iso"
  iso_checksum     = "sha256:ISO_SHA256"
  accelerator      = "tcg"
  headless         = true
  disk_size        = "32M"
  output_directory = "output"
  communicator     = "none"
  vnc_use_password = true
  vnc_password     = "123456789"
}
build {
  sources = ["source.qemu.x"]
}
