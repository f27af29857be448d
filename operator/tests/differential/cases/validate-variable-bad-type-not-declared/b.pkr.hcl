variable "name" {
  type    = string
  default = "y"
}
variable "other" {
  default = nope
}
variable "other" {
  default = "fine"
}
