# No communicator and a guest that stays up: "Failed to shutdown" once shutdown_timeout
# passes; the VM is stopped and the output directory removed.
source "qemu" "small" {
  iso_url          = "GUESTS/iso/kiln-boot.iso"
  iso_checksum     = "sha256:ISO_SHA256"
  accelerator      = "tcg"
  headless         = true
  disk_size        = "64M"
  output_directory = "out"
  communicator     = "none"
  boot_wait        = "3s"
  boot_command     = ["linux<enter>"]
  shutdown_timeout = "15s"
}
build {
  sources = ["source.qemu.small"]
}
