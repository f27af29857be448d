# No shutdown_command: the builder halts the VM itself ("Halting the virtual machine...")
# after provisioning, then converts the disk (qcow2, compacted).
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
  disk_compression     = true
}
build {
  sources = ["source.qemu.small"]
  provisioner "shell" {
    inline = ["uname -s"]
  }
}
