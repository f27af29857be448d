source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  post-processor "shell-local" {
    inline           = ["exit 3"]
    valid_exit_codes = [0, 3]
  }
  post-processor "shell-local" {
    inline = ["exit 4"]
  }
}
