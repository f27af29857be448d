data "null" "twice" {
  input = "a"
}

data "null" "twice" {
  input = "b"
}
