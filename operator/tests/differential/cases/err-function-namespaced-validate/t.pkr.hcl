# Packer has no namespaced functions: hclsyntax finds none in the namespace.
locals {
  a = provider::aws::arn_parse("x")
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
}
