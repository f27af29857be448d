# An EFI variables file that does not exist: the build fails when the plugin copies it into
# the output directory (after the disk is made), which is then removed.
source "qemu" "novars" {
  iso_url           = "GUESTS/iso-efi/kiln-boot-efi.iso"
  iso_checksum      = "sha256:EFI_ISO_SHA256"
  accelerator       = "tcg"
  headless          = true
  efi_firmware_vars = "/nonexistent/OVMF_VARS.fd"
  disk_size         = "32M"
  output_directory  = "output"
  communicator      = "none"
}
build {
  sources = ["source.qemu.novars"]
}
