# Four sources that each sleep: with -parallel-builds=0 they finish in the time of one.

variable "seconds" {
  type    = number
  default = 1
}

source "null" "a" {
  communicator = "none"
}

build {
  dynamic "source" {
    for_each = ["one", "two", "three", "four"]
    labels   = ["null.a"]
    content {
      name = source.value
    }
  }

  provisioner "shell-local" {
    inline = ["sleep ${var.seconds}", "echo done ${source.name}"]
  }
}
