source "null" "a" {
  communicator = "none"
}
build {
  name    = "ctx"
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["echo name=${build.name} type=${build.type} ID=${build.ID} conn=${build.ConnType} ver=${packer.version} src=${source.name}/${source.type}"]
  }
}
