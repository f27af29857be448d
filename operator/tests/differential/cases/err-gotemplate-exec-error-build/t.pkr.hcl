source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  post-processor "manifest" {
    output = "m-{{ split \"a-b\" \"-\" 5 }}.json"
  }
}
