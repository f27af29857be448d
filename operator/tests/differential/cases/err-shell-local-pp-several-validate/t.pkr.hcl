source "null" "a" {
  communicator = "none"
}
build {
  sources = ["null.a"]
  post-processor "shell-local" {
    scripts          = ["a.sh", "b.sh"]
    inline           = []
    environment_vars = ["novalue"]
  }
}
