variable "from_env" {
  type = list(string)
}
