data "null" "a" {
  input = "one"
}
data "null" "b" {
  input = "${data.null.a.output}-two"
}
locals {
  l = upper(data.null.b.output)
}
