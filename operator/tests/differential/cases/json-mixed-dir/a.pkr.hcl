variable "who" {
  type    = string
  default = "hcl"
}
