source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisoner "shell-local" {
    inline = ["echo"]
  }
}
