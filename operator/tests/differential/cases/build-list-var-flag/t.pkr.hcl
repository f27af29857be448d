variable "names" {
  type    = list(string)
  default = []
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["echo ${join(",", var.names)} ${length(var.names)}"]
  }
}
