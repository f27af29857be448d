variable "size" {
  type    = number
  default = 10
  validation {
    condition     = var.size > 5
    error_message = "The size must be above 5."
  }
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["echo size=${var.size}"]
  }
}
