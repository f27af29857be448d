source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a", "ami", "source.1x.y", "a.b.c.d"]
}
