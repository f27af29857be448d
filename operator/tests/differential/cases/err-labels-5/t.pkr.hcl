source "null" "a" "b" {}
