# An empty manifest output is the default, packer-manifest.json.
source "file" "a" {
  content = "a"
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  post-processor "manifest" {
    output     = ""
    strip_time = true
  }
}
