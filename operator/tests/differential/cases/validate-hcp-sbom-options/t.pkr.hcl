# The hcp-sbom provisioner's Prepare: its checks in its order, the name pattern, the
# mutually exclusive modes.
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "hcp-sbom" {
    source = "/tmp/x.json"
    destination = "out/"
    sbom_name = "bad name"
  }
  provisioner "hcp-sbom" {
  }
  provisioner "hcp-sbom" {
    source = "x"
    auto_generate = true
    elevated_password = "p"
    scanner_checksum = "c"
  }
}
build {
  name    = "ok"
  sources = ["source.null.a"]
  provisioner "hcp-sbom" {
    source        = "/tmp/x.json"
    sbom_name     = "Abc-123"
    scanner_url   = "ignored in source mode"
    packer_force  = true
  }
  provisioner "hcp-sbom" {
    auto_generate   = true
    scan_path       = "/usr"
    scanner_args    = ["-o", "spdx-json"]
    execute_command = "{{.Path}} {{.Args}} {{.ScanPath}} > {{.Output}}"
    elevated_user   = "admin"
  }
  provisioner "hcp-sbom" {
    source    = "x"
    sbom_name = "a_b"
  }
  provisioner "hcp-sbom" {
    source  = "x"
    nothing = 1
  }
}
