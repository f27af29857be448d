# the same source again, in another file
source "null" "box" {
  communicator = "none"
}
