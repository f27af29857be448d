source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    name      = "first"
    inline    = 5
    only_once = true
  }
}
