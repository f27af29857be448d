# A wrong checksum: StepDownload's lines, go-getter's error, nothing booted.
source "qemu" "small" {
  iso_url          = "GUESTS/iso/kiln-boot.iso"
  iso_checksum     = "md5:00000000000000000000000000000000"
  accelerator      = "tcg"
  headless         = true
  output_directory = "output"
  ssh_username     = "root"
  ssh_password     = "kiln"
}
build {
  sources = ["source.qemu.small"]
}
