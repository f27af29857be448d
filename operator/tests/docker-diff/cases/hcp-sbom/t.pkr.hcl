# hcp-sbom through the docker communicator: an SBOM the build writes in the container,
# fetched, checked and copied; then one in neither format fails the build.
source "docker" "a" {
  image   = "REGISTRY/busybox:latest"
  discard = true
}
build {
  sources = ["source.docker.a"]
  provisioner "shell" {
    inline = [
      "echo '{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"version\":1}' > /tmp/cdx.json",
      "echo '{\"bomFormat\":\"SPDX\"}' > /tmp/bad.json",
    ]
  }
  provisioner "hcp-sbom" {
    source      = "/tmp/cdx.json"
    destination = "sboms/cdx.json"
    sbom_name   = "base"
  }
  provisioner "hcp-sbom" {
    source = "/tmp/bad.json"
  }
}
