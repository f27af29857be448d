source "file" "a" {
  content = "x"
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  provisioner "shell-local" {
    inline = ["echo ${build.ID} ${build.PackerRunUUID} ${build.ConnType} [${build.name}] ${build.SSHPublicKey} ${build.PackerHTTPAddr}", "echo {{ .Name }} {{ build_name }} $PACKER_BUILD_NAME"]
  }
  post-processor "shell-local" {
    inline = ["echo ${build.ID} ${build.PackerRunUUID} ${build.ConnType}"]
  }
}
