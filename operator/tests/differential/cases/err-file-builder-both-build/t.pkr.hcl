source "file" "a" {
  content = "x"
  source = "y"
  target = "z"
}
build {
  sources = ["file.a"]
}
