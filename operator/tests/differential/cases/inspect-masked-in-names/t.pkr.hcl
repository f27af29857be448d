variable "secret" {
  default   = "null"
  sensitive = true
}
source "null" "a" {
  communicator = "none"
}
build {
  name    = "b-${var.secret}"
  sources = ["${var.secret}.a"]
  provisioner "shell-local" {
    name   = "p-${var.secret}"
    inline = ["true"]
  }
}
