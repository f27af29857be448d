source "null" "a" { x = 1 y }
