source "qemu" "a" {
  iso_url           = "debian.iso"
  iso_checksum      = "none"
  ssh_username      = "root"
  http_interface    = "lo"
  http_bind_address = "127.0.0.1"
  run_once          = "sometimes"
}
build {
  sources = ["source.qemu.a"]
}
