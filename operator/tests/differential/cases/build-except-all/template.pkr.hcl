source "null" "a" {
  communicator = "none"
}
source "null" "b" {
  communicator = "none"
}
build {
  sources = ["source.null.a", "source.null.b"]
  provisioner "shell-local" {
    inline = ["echo one; echo; echo '  two  '", "exit ${source.name == "b" ? 3 : 0}"]
  }
  post-processor "manifest" {
    output = "m.json"
  }
}
