source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["echo type=${build.ConnType} name=${build.name} id=${build.ID}"]
  }
}
