source "null" "a" {
  communicator = 
}
