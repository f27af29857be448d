# A VM image with the qemu builder: Kiln's small test guest (scripts/guests.sh builds it
# offline from Debian packages) boots from an ISO whose isolinux prompt gets the typed
# boot command, a shell provisioner runs over SSH through the forwarded port and writes to
# the disk, and the disk is left as a qcow2 in output-small/.
#
#   scripts/guests.sh
#   kiln build examples/qemu-small
#
# Kiln (like Packer) picks accelerator "kvm" when /dev/kvm opens; this template sets "tcg"
# so it runs anywhere, including hosts where KVM guests hang (nested or paravirtualised KVM).

variable "guests" {
  type        = string
  description = "Where scripts/guests.sh put the test guests."
  default     = "${env("HOME")}/.cache/kiln/guests/2"
}

source "qemu" "small" {
  iso_url      = "${var.guests}/iso/kiln-boot.iso"
  iso_checksum = "none"

  accelerator = "tcg"
  headless    = true
  memory      = 512
  disk_size   = "256M"
  format      = "qcow2"
  vm_name     = "small.qcow2"

  # The ISO waits at isolinux's "boot:" prompt; whatever follows the label lands on the
  # guest's kernel command line.
  boot_wait    = "3s"
  boot_command = ["linux kiln.vm={{ .Name }} kiln.http={{ .HTTPIP }}:{{ .HTTPPort }}<enter>"]
  http_content = {
    "/motd" = "built by Kiln's qemu builder\n"
  }

  ssh_username         = "root"
  ssh_private_key_file = "${var.guests}/small/id_ed25519"
  ssh_timeout          = "5m"
  shutdown_command     = "poweroff"
}

build {
  sources = ["source.qemu.small"]

  provisioner "shell" {
    inline = [
      "cat /proc/cmdline",
      "wget -qO /root/motd http://${build.PackerHTTPAddr}/motd && cat /root/motd",
      # The small guest runs from its initramfs: write to the disk itself.
      "dd if=/root/motd of=/dev/vda conv=notrunc 2>/dev/null && sync",
    ]
  }
}
