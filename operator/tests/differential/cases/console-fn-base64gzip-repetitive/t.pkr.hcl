variable "name" {
  type    = string
  default = "potato"
}
variable "unset" {
  type = string
}
variable "secret" {
  type      = string
  default   = "hunter2"
  sensitive = true
}
variable "list" {
  type    = list(string)
  default = ["a", "b"]
}
variable "obj" {
  type = object({ x = number, y = optional(string, "dflt") })
  default = { x = 1 }
}
variable "from_env" {
  type    = string
  default = "unset"
}
locals {
  m     = { b = 1, a = "x", "with space" = true }
  n     = null
  empty = ""
  multi = "line1\nline2"
  nested = { l = [1, 2, { k = "v" }], s = distinct(["b", "a", "b"]) }
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
}
