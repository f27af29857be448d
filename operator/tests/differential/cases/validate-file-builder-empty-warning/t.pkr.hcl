source "file" "a" {
  target = "out.txt"
}
build {
  sources = ["file.a"]
}
