# boot_steps with a zero wait in an undescribed second step: the plugin does not check
# boot_steps in Prepare; the step fails when its turn comes, in the SDK's words.
source "qemu" "steps" {
  iso_url              = "GUESTS/iso/kiln-boot.iso"
  iso_checksum         = "sha256:ISO_SHA256"
  accelerator          = "tcg"
  headless             = true
  disk_size            = "32M"
  output_directory     = "output"
  ssh_username         = "root"
  ssh_private_key_file = "GUESTS/small/id_ed25519"
  boot_wait            = "3s"
  boot_steps = [
    ["linux", "the label"],
    [" kiln.step=one<wait0s>"],
    [" kiln.name={{ .Name }}", "the VM's name", "an extra item"],
    ["<enter>", "boot"],
  ]
  ssh_timeout      = "4m"
  shutdown_command = "poweroff"
  shutdown_timeout = "1m"
}
build {
  sources = ["source.qemu.steps"]
  provisioner "shell" {
    inline = ["grep -o 'kiln[.][a-z]*=[^ ]*' /proc/cmdline"]
  }
}
