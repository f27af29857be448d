source "qemu" "a" {
  iso_url        = "debian.iso"
  iso_checksum   = "none"
  ssh_username   = "root"
  floppy_files   = ["missing.cfg", "t.pkr.hcl", "*.nothing", "[bad"]
  floppy_dirs    = ["missing-dir", "."]
  floppy_content = { "meta-data" = "x" }
  floppy_label   = "cidata"
  cd_files       = ["missing-cd.cfg"]
}
build {
  sources = ["source.qemu.a"]
}
