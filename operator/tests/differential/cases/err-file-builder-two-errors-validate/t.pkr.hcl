source "file" "a" {
  content = "x"
  source  = "y"
}
build {
  sources = ["file.a"]
}
