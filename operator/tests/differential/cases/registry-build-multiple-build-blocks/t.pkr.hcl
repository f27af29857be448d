source "file" "a" {
  content = "x"
  target  = "out.txt"
}

build {
  name    = "one"
  sources = ["source.file.a"]
}

build {
  name    = "two"
  sources = ["source.file.a"]
}
