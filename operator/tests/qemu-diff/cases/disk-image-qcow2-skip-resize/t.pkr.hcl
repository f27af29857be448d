# The Debian disk as a qcow2 disk_image of the same format (copied as it is), the resize
# skipped; no communicator and a short shutdown_timeout.
source "qemu" "debian" {
  disk_image       = true
  iso_url          = "GUESTS/debian/disk.qcow2"
  iso_checksum     = "sha256:DEBIAN_SHA256"
  skip_resize_disk = true
  skip_compaction  = true
  accelerator      = "tcg"
  headless         = true
  output_directory = "out"
  vm_name          = "debian.qcow2"
  communicator     = "none"
  disable_vnc      = true
  shutdown_timeout = "5s"
}
build {
  sources = ["source.qemu.debian"]
}
