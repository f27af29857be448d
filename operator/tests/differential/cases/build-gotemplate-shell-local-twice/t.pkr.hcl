# shell-local renders its inline commands twice: when it is prepared, then with the build's
# data just before it writes the script. A literal `{{` from the first pass is a template in
# the second.
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["echo 'run {{ \"{{\" }} .PackerRunUUID }} conn {{ \"{{\" }} .ConnType }} id {{ \"{{\" }} .ID }}'"]
  }
}
