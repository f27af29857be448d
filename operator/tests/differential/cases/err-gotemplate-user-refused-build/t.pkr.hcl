source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  post-processor "shell-local" {
    inline = ["echo {{ user `x` }}"]
  }
}
