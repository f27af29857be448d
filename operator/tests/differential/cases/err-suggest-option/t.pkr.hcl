source "null" "a" {
  comunicator = "none"
}
build {
  sources = ["source.null.a"]
}
