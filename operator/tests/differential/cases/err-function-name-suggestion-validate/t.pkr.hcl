# A misspelt function: hclsyntax's "Did you mean" names the closest function (one
# candidate each, so the answer does not depend on Go's map order).
locals {
  calls = [upperr("a"), lenght([]), fileexist("x"), jsonencod(1), nosuchfunction(1)]
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
}
