locals {
  greeting = "hi"
  from_data = data.null.b.output
}
data "null" "a" {
  input = local.greeting
}
data "null" "b" {
  input = "b-${data.null.c.output}"
}
data "null" "c" {
  input = "c"
}
