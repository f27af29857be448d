# The Debian disk as a disk_image converted to raw ("Copying hard drive...") and resized;
# no communicator, and the guest does not power off within shutdown_timeout: "Failed to
# shutdown", the output directory removed.
source "qemu" "debian" {
  disk_image       = true
  iso_url          = "GUESTS/debian/disk.qcow2"
  iso_checksum     = "sha256:DEBIAN_SHA256"
  format           = "raw"
  disk_size        = "3G"
  accelerator      = "tcg"
  headless         = true
  output_directory = "out"
  communicator     = "none"
  boot_wait        = "1s"
  shutdown_timeout = "5s"
}
build {
  sources = ["source.qemu.debian"]
}
