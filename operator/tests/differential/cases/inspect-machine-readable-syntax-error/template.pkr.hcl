variable "a" {
  default =
}
