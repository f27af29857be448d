# Bridged networking (net_bridge) in the script's network namespace: qemu's bridge helper
# attaches the VM to br-kiln, whose dnsmasq gives the guest its address; the HTTP server is
# reached at the bridge's address, SSH at the guest's, found over QMP and in the ARP table.
source "qemu" "br" {
  iso_url              = "GUESTS/iso/kiln-boot.iso"
  iso_checksum         = "sha256:ISO_SHA256"
  accelerator          = "tcg"
  headless             = true
  net_bridge           = "br-kiln"
  http_content         = { "/hello.txt" = "served on the bridge" }
  disk_size            = "64M"
  output_directory     = "output"
  vm_name              = "br.qcow2"
  ssh_username         = "root"
  ssh_private_key_file = "GUESTS/small/id_ed25519"
  boot_wait            = "3s"
  boot_command         = ["linux kiln.http={{ .HTTPIP }}:{{ .HTTPPort }}<enter>"]
  ssh_timeout          = "2m"
  shutdown_command     = "poweroff"
  shutdown_timeout     = "1m"
}
build {
  sources = ["source.qemu.br"]
  provisioner "shell" {
    inline = ["ip -4 -o addr show eth0 | grep -o 'inet 10.77.0.[0-9]*' | cut -d. -f1-3", "wget -qO- http://$(grep -o 'kiln.http=[^ ]*' /proc/cmdline | cut -d= -f2)/hello.txt; echo"]
  }
}
