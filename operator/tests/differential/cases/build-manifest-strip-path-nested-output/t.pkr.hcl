source "file" "a" {
  content = "hello"
  target  = "out/deep/a.txt"
}
build {
  name    = "named"
  sources = ["source.file.a"]
  post-processor "manifest" {
    output     = "m/dir/manifest.json"
    strip_path = true
    strip_time = true
  }
}
