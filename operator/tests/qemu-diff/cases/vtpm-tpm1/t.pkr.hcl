# A virtual TPM 1.2 (use_tpm1) on the default tpm-tis device: the guest's kernel finds it.
source "qemu" "tpm" {
  iso_url              = "GUESTS/iso/kiln-boot.iso"
  iso_checksum         = "sha256:ISO_SHA256"
  accelerator          = "tcg"
  headless             = true
  vtpm                 = true
  use_tpm1             = true
  disk_size            = "64M"
  output_directory     = "output"
  vm_name              = "tpm.qcow2"
  ssh_username         = "root"
  ssh_private_key_file = "GUESTS/small/id_ed25519"
  boot_wait            = "3s"
  boot_command         = ["linux<enter>"]
  ssh_timeout          = "4m"
  shutdown_command     = "poweroff"
  shutdown_timeout     = "1m"
}
build {
  sources = ["source.qemu.tpm"]
  provisioner "shell" {
    inline = ["test -c /dev/tpm0 && echo TPM device", "cat /sys/class/tpm/tpm0/tpm_version_major"]
  }
}
