source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]

  provisioner "shell-local" {
    timeout = "1s"
    inline  = ["echo started", "sleep 20", "echo never"]
  }

  error-cleanup-provisioner "shell-local" {
    inline = ["echo cleaning up"]
  }
}
