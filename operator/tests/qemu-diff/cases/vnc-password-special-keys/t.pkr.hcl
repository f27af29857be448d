# A VNC password, and a boot command with waits, a backspace and a held shift key; the guest
# shows what was typed on its command line.
source "qemu" "small" {
  iso_url              = "GUESTS/iso/kiln-boot.iso"
  iso_checksum         = "sha256:ISO_SHA256"
  accelerator          = "tcg"
  headless             = true
  disk_size            = "64M"
  output_directory     = "out"
  vnc_use_password     = true
  ssh_username         = "root"
  ssh_private_key_file = "GUESTS/small/id_ed25519"
  boot_wait            = "3s"
  boot_command         = ["<wait1s>lin<bs>nux kiln.k=<leftShiftOn>ab<leftShiftOff>c<wait><enter>"]
  ssh_timeout          = "4m"
  shutdown_command     = "poweroff"
}
build {
  sources = ["source.qemu.small"]
  provisioner "shell" {
    inline = ["grep -o 'kiln.k=[^ ]*' /proc/cmdline"]
  }
}
