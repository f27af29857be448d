source "qemu" "a" {
  iso_url          = "debian.iso"
  iso_checksum     = "sha256:abcd"
  ssh_username     = "root"
  ssh_bastion_host = "bastion"
  ssh_bastion_password = "x"
  accelerator      = "tcg"
  boot_steps       = [["<wait-5s>", "bad wait"]]
  vnc_use_password = true
  vnc_password     = "longer-than-eight"
  disk_size        = "1x"
}
build {
  sources = ["source.qemu.a"]
}
