source "null" "a" {
  communicator = "none"
  communicator = "ssh"
}
