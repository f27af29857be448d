source "qemu" "a" {
  iso_url                   = "debian.iso"
  iso_checksum              = "none"
  ssh_password              = "x"
  ssh_private_key_file      = "missing-key"
  ssh_bastion_host          = "bastion"
  ssh_bastion_username      = "jump"
  ssh_proxy_host            = "proxy"
  host_port_min             = 3000
  host_port_max             = 2000
  http_port_min             = 9100
  http_port_max             = 9000
  http_network_protocol     = "udp"
  cd_files                  = ["missing-file"]
}
build {
  sources = ["source.qemu.a"]
}
