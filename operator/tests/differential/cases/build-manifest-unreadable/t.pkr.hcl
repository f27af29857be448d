source "file" "a" {
  content = "a"
  target  = "a.txt"
}

build {
  name    = "under-a-file"
  sources = ["source.file.a"]

  post-processor "manifest" {
    output = "a.txt/m.json"
  }
}

build {
  name    = "not-json"
  sources = ["source.file.a"]

  post-processor "manifest" {
    output = "bad.json"
  }
}

build {
  name    = "an-array"
  sources = ["source.file.a"]

  post-processor "manifest" {
    output = "array.json"
  }
}
