source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    scripts = ["one.sh", "two.sh"]
  }
}
