# The 4 MiB OVMF build named by its files (which turns EFI on by itself), a raw disk and
# efi_drop_efivars: efivars.fd is written but left out of the artifact and the manifest.
source "qemu" "efi4m" {
  iso_url              = "GUESTS/iso-efi/kiln-boot-efi.iso"
  iso_checksum         = "sha256:EFI_ISO_SHA256"
  accelerator          = "tcg"
  headless             = true
  efi_firmware_code    = "/usr/share/OVMF/OVMF_CODE_4M.fd"
  efi_firmware_vars    = "/usr/share/OVMF/OVMF_VARS_4M.fd"
  efi_drop_efivars     = true
  format               = "raw"
  disk_size            = "32M"
  output_directory     = "output"
  ssh_username         = "root"
  ssh_password         = "kiln"
  boot_wait            = "10s"
  boot_command         = ["linux<enter>"]
  ssh_timeout          = "4m"
  shutdown_command     = "poweroff"
  shutdown_timeout     = "1m"
}
build {
  sources = ["source.qemu.efi4m"]
  provisioner "shell" {
    inline = ["test -d /sys/firmware/efi && echo booted by UEFI"]
  }
  post-processor "manifest" {}
}
