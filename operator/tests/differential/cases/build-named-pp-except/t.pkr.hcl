source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  post-processor "shell-local" {
    name   = "keepme"
    inline = ["echo kept"]
  }
  post-processor "shell-local" {
    name   = "dropme"
    inline = ["echo dropped"]
  }
}
