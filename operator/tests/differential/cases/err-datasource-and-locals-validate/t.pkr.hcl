data "null" "a" {
  input = local.x
}
locals {
  x = "in"
  y = data.null.a.output
}
source "file" "a" {
  content = local.y
  target = "a.txt"
}
build {
  sources = ["file.a"]
}
