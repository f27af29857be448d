source "null" "a" {
}
build {
  sources = ["null.a"]
}
