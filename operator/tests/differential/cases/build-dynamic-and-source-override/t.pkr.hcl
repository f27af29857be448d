source "file" "base" {
  target = "x.txt"
}
build {
  dynamic "source" {
    for_each = ["one", "two"]
    labels   = ["file.base"]
    content {
      name    = source.value
      content = "content ${source.value}"
      target  = "${source.value}.txt"
    }
  }
}
