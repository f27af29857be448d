source "a${b}" {
}
x = 1 1
