source "file" "a" {
  content = "x"
  target  = "out.txt"
}

build {
  sources = ["source.file.a"]
}
