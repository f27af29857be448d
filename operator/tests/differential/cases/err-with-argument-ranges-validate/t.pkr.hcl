variable "x" {
  default = "abc"
}

locals {
  l = ["a", "b"]
  m = { a = "b" }
}

source "null" "a" {
  communicator = "none"
}

build {
  sources = ["null.a"]

  provisioner "shell-local" {
    inline = [upper([1, var.x])]
  }
  provisioner "shell-local" {
    inline = [upper({ a = 1 })]
  }
  provisioner "shell-local" {
    inline = [upper([for s in local.l : s])]
  }
  provisioner "shell-local" {
    inline = [upper(local.m[var.x])]
  }
  provisioner "shell-local" {
    inline = [upper(local.l == 1 ? local.l : local.l)]
  }
  provisioner "shell-local" {
    inline = [upper(local.l[*])]
  }
  provisioner "shell-local" {
    inline = [abs("${var.x}b")]
  }
  provisioner "shell-local" {
    inline = [substr(var.x, local.m, local.l)]
  }
  provisioner "shell-local" {
    inline = [abs(<<-EOF
      x
        y
      EOF
    )]
  }
}
