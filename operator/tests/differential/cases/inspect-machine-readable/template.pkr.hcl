variable "a" {
  default = "x,y"
}
variable "s" {
  default   = "hunter2"
  sensitive = true
}
locals { l = "v ${var.s}" }
source "null" "n" { communicator = "none" }
build {
  sources = ["source.null.n"]
  provisioner "shell-local" { inline = ["echo hi"] }
}

build {
  name        = "second, with a comma"
  description = "two\nlines"
  sources     = ["source.null.n"]
  post-processor "manifest" {}
}
