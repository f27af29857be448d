variable "foo" {
  type = string
}

source "null" "a" {
  communicator = "none"
}

build {
  sources = [
    "source.null.a${var.foo}",
  ]
}
