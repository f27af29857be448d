# The Debian disk (scripts/guests.sh debian) as a disk_image with a backing file: no ISO to
# boot from, the disk resized, booted from under TCG, provisioned over SSH.
source "qemu" "debian" {
  disk_image           = true
  iso_url              = "GUESTS/debian/disk.qcow2"
  iso_checksum         = "sha256:DEBIAN_SHA256"
  use_backing_file     = true
  format               = "qcow2"
  disk_size            = "4G"
  accelerator          = "tcg"
  headless             = true
  output_directory     = "out"
  vm_name              = "debian.qcow2"
  ssh_username         = "root"
  ssh_private_key_file = "GUESTS/small/id_ed25519"
  ssh_timeout          = "5m"
  shutdown_command     = "poweroff"
}
build {
  sources = ["source.qemu.debian"]
  provisioner "shell" {
    inline = ["uname -s", "test -f /etc/debian_version && echo debian"]
  }
}
