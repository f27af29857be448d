# A password and no key file: the SDK's StepSSHKeyGen makes a temporary key pair (here
# ed25519), whose public key is build.SSHPublicKey; the login is by password.
source "qemu" "small" {
  iso_url                 = "GUESTS/iso/kiln-boot.iso"
  iso_checksum            = "sha256:ISO_SHA256"
  accelerator             = "tcg"
  headless                = true
  disk_size               = "64M"
  output_directory        = "output"
  ssh_username            = "root"
  ssh_password            = "kiln"
  temporary_key_pair_type = "ed25519"
  boot_wait               = "3s"
  boot_command            = ["linux<enter>"]
  ssh_timeout             = "4m"
  shutdown_command        = "poweroff"
}
build {
  sources = ["source.qemu.small"]
  provisioner "shell" {
    inline = ["echo '${build.SSHPublicKey}' | cut -c1-11"]
  }
}
