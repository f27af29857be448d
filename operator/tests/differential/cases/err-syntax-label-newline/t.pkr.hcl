source "a
" {
}
