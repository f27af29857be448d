source "file" "test" {
  content = "x"
  target  = "output"
}
build {
  sources = ["sources.file.test"]
}
build {
  sources = ["sources.file.test"]
}
