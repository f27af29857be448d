source "null" "a" {
} x
