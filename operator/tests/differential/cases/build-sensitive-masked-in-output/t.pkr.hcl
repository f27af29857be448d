variable "pw" {
  type      = string
  default   = "hunter2secret"
  sensitive = true
}
local "token" {
  expression = "tok-${upper(var.pw)}-xyz"
  sensitive  = true
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline           = ["echo pw=${var.pw}", "echo token=${local.token}", "echo env=$SECRET", "echo plain", "echo both ${var.pw} ${local.token}"]
    environment_vars = ["SECRET=${var.pw}"]
  }
  post-processor "shell-local" {
    inline = ["echo pp ${local.token}"]
  }
}
