# A floppy from floppy_files and floppy_dirs, two additional disks (raw), qemuargs that set
# memory and CPUs, the guest seeing the extra disks and the floppy's files.
source "qemu" "small" {
  iso_url              = "GUESTS/iso/kiln-boot.iso"
  iso_checksum         = "sha256:ISO_SHA256"
  accelerator          = "tcg"
  headless             = true
  disk_size            = "64M"
  disk_additional_size = ["8M", "16M"]
  format               = "raw"
  vm_name              = "small"
  output_directory     = "out"
  floppy_files         = ["ks.cfg"]
  floppy_dirs          = ["floppy"]
  floppy_label         = "KILN"
  qemuargs             = [["-m", "256M"], ["-smp", "1"]]
  ssh_username         = "root"
  ssh_private_key_file = "GUESTS/small/id_ed25519"
  boot_wait            = "3s"
  boot_command         = ["linux<enter>"]
  ssh_timeout          = "4m"
  shutdown_command     = "poweroff"
}
build {
  sources = ["source.qemu.small"]
  provisioner "shell" {
    inline = ["ls /sys/block | grep -c vd", "grep MemTotal /proc/meminfo | awk '{print ($2 > 200000)}'"]
  }
  post-processor "manifest" {}
}
