# A qemu_binary that does not exist: the builder fails creating its driver, before any step
# (nothing downloaded, no output directory), with exec.LookPath's error.
source "qemu" "nobinary" {
  iso_url          = "GUESTS/iso/kiln-boot.iso"
  iso_checksum     = "sha256:ISO_SHA256"
  accelerator      = "tcg"
  headless         = true
  qemu_binary      = "/nonexistent/qemu-system-x86_64"
  output_directory = "output"
  communicator     = "none"
}
build {
  sources = ["source.qemu.nobinary"]
}
