source "file" "a" {
  content = "hello"
  target  = "out/a.txt"
}
build {
  sources = ["source.file.a"]
  post-processor "manifest" {
    output      = "m.json"
    strip_path  = true
    strip_time  = true
    custom_data = {
      version = "1.2"
      owner   = "me"
    }
  }
}
