# hclsyntax looks at a 'for' condition once with the element unknown: a condition that
# cannot work is reported once, not for every element.
locals {
  l = [
    [for x in [1, 2, 3] : x if x > "a"],
    [for k, v in { a = 1, b = 2 } : v if k && true],
    [for x in [1, 2] : x if "maybe"],
    [for x in [1, 2] : x if null],
  ]
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
}
