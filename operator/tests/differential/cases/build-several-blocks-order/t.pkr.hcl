source "null" "a" {
  communicator = "none"
}
source "null" "b" {
  communicator = "none"
}
build {
  name    = "zz"
  sources = ["source.null.b", "source.null.a"]
  post-processor "manifest" {}
}
build {
  name    = "aa"
  sources = ["source.null.a"]
  post-processor "manifest" {}
}
