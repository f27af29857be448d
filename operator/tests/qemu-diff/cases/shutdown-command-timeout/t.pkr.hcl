# A shutdown command that does not shut the guest down: Packer's "Timeout while waiting for
# machine to shut down." after shutdown_timeout.
source "qemu" "small" {
  iso_url              = "GUESTS/iso/kiln-boot.iso"
  iso_checksum         = "sha256:ISO_SHA256"
  accelerator          = "tcg"
  headless             = true
  disk_size            = "64M"
  output_directory     = "out"
  ssh_username         = "root"
  ssh_private_key_file = "GUESTS/small/id_ed25519"
  boot_wait            = "3s"
  boot_command         = ["linux<enter>"]
  ssh_timeout          = "4m"
  shutdown_command     = "echo not today"
  shutdown_timeout     = "5s"
}
build {
  sources = ["source.qemu.small"]
}
