source "file" "a" {
  source = "does-not-exist"
  target = "out.txt"
}
build {
  sources = ["file.a"]
}
