data "null" "x" {
  input = "from data"
}
locals {
  v = "${data.null.x.output}!"
}
source "file" "a" {
  content = local.v
  target  = "out.txt"
}
build {
  sources = ["source.file.a"]
}
