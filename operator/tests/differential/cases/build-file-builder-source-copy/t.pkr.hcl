source "file" "a" {
  source = "in.txt"
  target = "out/copied.txt"
}
build {
  sources = ["source.file.a"]
  post-processor "manifest" {
    output     = "m.json"
    strip_time = true
  }
}
