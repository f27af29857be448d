# UEFI boot with the plugin's default OVMF files: syslinux.efi's prompt on the EFI ISO, the
# boot command typed over VNC, SSH, a provisioner that sees the guest's EFI runtime, the
# output directory with its writable copy of the EFI variables (efivars.fd) in the manifest.
source "qemu" "efi" {
  iso_url              = "GUESTS/iso-efi/kiln-boot-efi.iso"
  iso_checksum         = "sha256:EFI_ISO_SHA256"
  accelerator          = "tcg"
  headless             = true
  efi_boot             = true
  disk_size            = "64M"
  output_directory     = "output"
  vm_name              = "efi.qcow2"
  ssh_username         = "root"
  ssh_private_key_file = "GUESTS/small/id_ed25519"
  boot_wait            = "10s"
  boot_command         = ["linux kiln.efi=1<enter>"]
  ssh_timeout          = "4m"
  shutdown_command     = "poweroff"
  shutdown_timeout     = "1m"
}
build {
  sources = ["source.qemu.efi"]
  provisioner "shell" {
    inline = ["test -d /sys/firmware/efi && echo booted by UEFI", "grep -o 'kiln.efi=[^ ]*' /proc/cmdline"]
  }
  post-processor "manifest" {}
}
