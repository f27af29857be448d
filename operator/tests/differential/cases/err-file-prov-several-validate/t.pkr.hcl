source "null" "a" {
  communicator = "none"
}
build {
  sources = ["null.a"]
  provisioner "file" {
    direction = "sideways"
    source    = "nope.txt"
    sources   = ["nope2.txt"]
    content   = "x"
  }
}
