# An EFI code file that does not exist: qemu refuses to start; the output directory and its
# efivars.fd are removed.
source "qemu" "nocode" {
  iso_url           = "GUESTS/iso-efi/kiln-boot-efi.iso"
  iso_checksum      = "sha256:EFI_ISO_SHA256"
  accelerator       = "tcg"
  headless          = true
  efi_firmware_code = "/nonexistent/OVMF_CODE.fd"
  disk_size         = "32M"
  output_directory  = "output"
  communicator      = "none"
}
build {
  sources = ["source.qemu.nocode"]
}
