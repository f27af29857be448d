source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "hcp-sbom" {
    source      = "/tmp/sbom.json"
    destination = "./sbom.json"
    sbom_name   = "my-sbom"
  }
}
