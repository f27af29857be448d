source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    name      = "first"
    inline    = ["echo"]
    only_once = true
    bogus     = [1, 2]
  }
}
