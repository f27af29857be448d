# No communicator: the guest powers itself off (busybox `poweroff -f` as its init), the
# builder waits for it ("Waiting for shutdown...") and keeps the disk.
source "qemu" "small" {
  iso_url          = "GUESTS/iso/kiln-boot.iso"
  iso_checksum     = "sha256:ISO_SHA256"
  accelerator      = "tcg"
  headless         = true
  disk_size        = "64M"
  output_directory = "out"
  communicator     = "none"
  boot_wait        = "3s"
  boot_command     = ["linux rdinit=/bin/poweroff -- -f<enter>"]
  shutdown_timeout = "3m"
}
build {
  sources = ["source.qemu.small"]
  post-processor "manifest" {}
}
