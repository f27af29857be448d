source "qemu" "a" {
  iso_url        = "debian.iso"
  iso_checksum   = "none"
  communicator   = "none"
  http_directory = "."
  http_content   = { "/a" = "b" }
  accelerator    = "tcg"
}
build {
  sources = ["source.qemu.a"]
}
