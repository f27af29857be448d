source "null" "a" {
  x = 1
