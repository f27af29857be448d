# Operands as hclsyntax converts them: both bad operands reported (conversion errors
# first, then the operands' own), null refused by the operation itself.
locals {
  l = [
    "a" < "b",
    nope + "x",
    null + 1,
    !null,
    null || false,
  ]
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
}
