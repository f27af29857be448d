# hcp-sbom without a communicator: the download fails, which the provisioner only says; the
# build then fails on the empty hand-over file, as Packer's does. Automatic generation cannot
# even detect the system; continue_on_error lets the build go on.
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "hcp-sbom" {
    source            = "/tmp/sbom.json"
    destination       = "out/"
    continue_on_error = true
  }
  provisioner "hcp-sbom" {
    auto_generate    = true
    scanner_url      = "https://example.com/syft"
    scanner_checksum = "abc"
  }
  post-processor "manifest" {}
}
