source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["echo ${buidl.name}", "${sourc.name}", "${pth.root}"]
  }
}
