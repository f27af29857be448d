# The HTTP server (http_content, its address in the boot command and in build values), a CD
# (cd_content) and a floppy (floppy_content) made and attached, a file provisioner both ways.
source "qemu" "small" {
  iso_url              = "GUESTS/iso/kiln-boot.iso"
  iso_checksum         = "sha256:ISO_SHA256"
  accelerator          = "tcg"
  headless             = true
  disk_size            = "64M"
  format               = "raw"
  output_directory     = "out"
  ssh_username         = "root"
  ssh_private_key_file = "GUESTS/small/id_ed25519"
  http_content         = { "/hello.txt" = "hello over HTTP" }
  cd_content           = { "meta-data" = "instance-id: kiln" }
  cd_label             = "cidata"
  floppy_content       = { "ks.cfg" = "text" }
  boot_wait            = "3s"
  boot_command         = ["linux kiln.http={{ .HTTPIP }}:{{ .HTTPPort }}<enter>"]
  ssh_timeout          = "4m"
  shutdown_command     = "poweroff"
}
build {
  sources = ["source.qemu.small"]
  provisioner "shell" {
    inline = [
      "wget -qO- http://${build.PackerHTTPAddr}/hello.txt",
      "grep -o 'kiln.http=[^ ]*' /proc/cmdline | cut -d= -f2 | cut -d: -f1",
    ]
  }
  provisioner "file" {
    content     = "to the guest"
    destination = "/root/up.txt"
  }
  provisioner "file" {
    source      = "/root/up.txt"
    destination = "back/up.txt"
    direction   = "download"
  }
}
