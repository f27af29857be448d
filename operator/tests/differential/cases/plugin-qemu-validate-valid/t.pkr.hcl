source "qemu" "a" {
  iso_url      = "debian.iso"
  iso_checksum = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
  ssh_username = "root"
  ssh_password = "secret"
  accelerator  = "tcg"
  format       = "raw"
  disk_size    = "2G"
  cpus         = 2
  boot_command = ["<esc><wait>", "auto url=http://{{ .HTTPIP }}:{{ .HTTPPort }}/preseed.cfg<enter>"]
  http_content = { "/preseed.cfg" = "d-i foo" }
  shutdown_command = "poweroff"
}
build {
  sources = ["source.qemu.a"]
}
