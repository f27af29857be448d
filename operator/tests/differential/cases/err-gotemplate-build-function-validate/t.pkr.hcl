# The SDK's `build` function needs the builder's data, which HCL2 provisioners are not
# prepared with: Packer refuses it (HCL2 templates say `${build.ID}`). The provisioner's
# name is in the error's summary.
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    name   = "named"
    inline = ["echo {{ build `ID` }}"]
  }
}
