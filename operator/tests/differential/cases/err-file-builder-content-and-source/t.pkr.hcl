source "file" "a" {
  source  = "in.txt"
  content = "x"
  target  = "out.txt"
}
build {
  sources = ["source.file.a"]
}
