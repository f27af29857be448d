source "qemu" "a" {
  iso_url                = "https://example.invalid/debian.iso"
  iso_checksum           = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
  iso_skip_cache         = true
  ssh_username           = "root"
  http_interface         = "lo"
  run_once               = true
  boot_keygroup_interval = "100ms"
  net_bridge             = "br0"
  vtpm                   = true
  tpm_device_type        = "tpm-crb"
  packer_force           = true
  packer_build_name      = "renamed"
  ssh_public_key         = [1, 2]
  ssh_bastion_port       = 0
  temporary_key_pair_bits = 1024
  http_port_min          = -1
}
build {
  sources = ["source.qemu.a"]
}
