# A splat visits every element and reports every element's error.
locals {
  l = [[1, 2][*].x, [{ a = 1 }, 2, "s"][*].a]
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
}
