source "null" "a" {
  communicator = "none"
}
build {
  sources = ["null.a"]
  post-processor "artifice" {
    files = []
  }
}
