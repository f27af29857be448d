source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]

  provisioner "shell-local" {
    inline = [templatefile("${path.root}/script.tpl", { greeting = "hi" })]
  }
}
