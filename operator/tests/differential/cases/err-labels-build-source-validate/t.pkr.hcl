source "null" "a" {
  communicator = "none"
}
build {
  source {}
  provisioner "a" "b" {}
}
