source "null" = {
}
