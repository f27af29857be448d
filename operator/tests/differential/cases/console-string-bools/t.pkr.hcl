# cty converts the strings "1" and "0" to booleans; a capitalised "True" gets a hint.
source "null" "x" {
  communicator = "none"
}
