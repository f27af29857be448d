source "file" "a" {
  content = "hello"
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  post-processor "compress" {
    output = "a.lz4"
  }
}
