source "null" "a" {
  communicator =
}
