source "file" "f" {
  content = "hello file"
  target  = "out.txt"
}
build {
  sources = ["source.file.f"]
  post-processor "artifice" {
    files = ["in.txt", "nope.txt", "*.md", "i*.txt", "./in.txt"]
  }
  post-processor "manifest" {
    output = "m.json"
  }
}
