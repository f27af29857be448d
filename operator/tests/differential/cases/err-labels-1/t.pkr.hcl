variable "a" "b" {}
