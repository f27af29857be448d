n = 2

source "null" "b" {
}
