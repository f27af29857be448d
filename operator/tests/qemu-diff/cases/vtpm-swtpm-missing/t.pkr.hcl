# vtpm without swtpm in $PATH (the case's `path` file lists the only commands there): the
# plugin's stepCreatevTPM says so and halts, the output directory is removed.
source "qemu" "tpm" {
  iso_url          = "GUESTS/iso/kiln-boot.iso"
  iso_checksum     = "sha256:ISO_SHA256"
  accelerator      = "tcg"
  headless         = true
  vtpm             = true
  output_directory = "output"
  communicator     = "none"
}
build {
  sources = ["source.qemu.tpm"]
}
