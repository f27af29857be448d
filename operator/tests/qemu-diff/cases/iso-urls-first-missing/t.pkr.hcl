# iso_urls whose first entry does not exist: the download step tries the next one. Default
# output directory and VM name; no communicator, the guest powers itself off.
source "qemu" "small" {
  iso_urls         = ["GUESTS/iso/missing.iso", "GUESTS/iso/kiln-boot.iso"]
  iso_checksum     = "sha256:ISO_SHA256"
  accelerator      = "tcg"
  headless         = true
  disk_size        = "64M"
  communicator     = "none"
  boot_wait        = "3s"
  boot_command     = ["linux rdinit=/bin/poweroff -- -f<enter>"]
  shutdown_timeout = "3m"
}
build {
  sources = ["source.qemu.small"]
}
