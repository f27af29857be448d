build {
  sources = ["source.null.box"]
}

source "null" "box" {
  communicator = "none"
}
