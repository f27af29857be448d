source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["echo host=[${build.Host}] port=[${build.Port}] user=[${build.User}] http=[${build.PackerHTTPAddr}] run=${build.PackerRunUUID}"]
  }
}
