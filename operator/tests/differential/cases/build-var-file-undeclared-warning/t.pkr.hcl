variable "x" {
  default = "a"
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["echo x=${var.x}"]
  }
}
