source "null" "x" {
  communicator = "none"
}
