variable "from_env" {
  type = number
}
