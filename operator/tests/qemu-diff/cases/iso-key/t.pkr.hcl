# The small guest from its ISO: a boot command typed over VNC, SSH with a key file, a
# shell provisioner, shutdown, the qcow2 and a manifest.
source "qemu" "small" {
  iso_url              = "GUESTS/iso/kiln-boot.iso"
  iso_checksum         = "sha256:ISO_SHA256"
  accelerator          = "tcg"
  headless             = true
  disk_size            = "64M"
  output_directory     = "output"
  vm_name              = "small.qcow2"
  ssh_username         = "root"
  ssh_private_key_file = "GUESTS/small/id_ed25519"
  boot_wait            = "3s"
  boot_command         = ["linux kiln.typed={{ .Name }}<enter>"]
  ssh_timeout          = "4m"
  shutdown_command     = "poweroff"
  shutdown_timeout     = "1m"
}
build {
  sources = ["source.qemu.small"]
  provisioner "shell" {
    inline = ["echo hello from the guest", "grep -o 'kiln.typed=[^ ]*' /proc/cmdline"]
  }
  post-processor "manifest" {}
}
