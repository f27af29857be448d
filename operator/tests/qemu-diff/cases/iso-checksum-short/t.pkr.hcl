# A sha256 checksum of the wrong length: go-getter takes any hex, so it is a mismatch when
# the ISO is verified (Expected: abcd, and %T of Go 1.26's SHA-256: *sha256.Digest).
source "qemu" "x" {
  iso_url          = "GUESTS/iso/kiln-boot.iso"
  iso_checksum     = "sha256:abcd"
  accelerator      = "tcg"
  headless         = true
  disk_size        = "32M"
  output_directory = "output"
  communicator     = "none"
  
}
build {
  sources = ["source.qemu.x"]
}
