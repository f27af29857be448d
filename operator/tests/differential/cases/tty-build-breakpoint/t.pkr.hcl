source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "breakpoint" {
    note = "look here"
  }
  provisioner "breakpoint" {}
}
