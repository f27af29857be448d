source "file" "a" {
  content = "hello\n"
  target  = "hello.txt"
}
source "file" "b" {
  content = "bye\n"
  target  = "bye.txt"
}
build {
  sources = ["source.file.a", "source.file.b"]
  post-processor "manifest" {
    output     = "manifest.json"
    strip_path = true
    custom_data = {
      k = "v"
    }
  }
}
