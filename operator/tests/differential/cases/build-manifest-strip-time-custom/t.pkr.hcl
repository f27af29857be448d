source "file" "a" {
  content = "x"
  target  = "a.txt"
}
build {
  sources = ["file.a"]
  post-processor "manifest" {
    output     = "m.json"
    strip_time = true
  }
  post-processor "shell-local" {
    inline = ["echo after manifest"]
  }
}
