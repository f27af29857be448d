variable "x" {
  type = string
}
source "file" "a" {
  content = var.x
  target = "a.txt"
}
build {
  sources = ["file.a"]
}
