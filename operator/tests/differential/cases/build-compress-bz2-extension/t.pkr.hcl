source "file" "a" {
  content = "hello"
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  post-processor "compress" {
    output              = "a.bz2"
    keep_input_artifact = true
  }
  post-processor "compress" {
    output = "a.tar.bz2"
  }
}
