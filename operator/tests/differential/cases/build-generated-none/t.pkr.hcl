source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["echo 'type=${build.ConnType} name=${build.name} id=${build.ID} host=${build.Host} port=${build.Port} user=${build.User} pw=${build.Password} uuid=${build.PackerRunUUID} ip=${build.PackerHTTPIP} addr=${build.PackerHTTPAddr} pport=${build.PackerHTTPPort} ssh=${build.SSHPublicKey} winrm=${build.WinRMPassword}'"]
  }
  post-processor "shell-local" {
    inline = ["echo 'type=${build.ConnType} name=${build.name} id=${build.ID} host=${build.Host} port=${build.Port} user=${build.User} uuid=${build.PackerRunUUID}'"]
  }
}
