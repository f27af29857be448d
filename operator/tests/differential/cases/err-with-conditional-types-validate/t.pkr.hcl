variable "x" {
  default = "abc"
}
variable "ls" {
  type    = list(string)
  default = ["a", "b"]
}
variable "m" {
  type    = map(string)
  default = { a = "1" }
}
variable "o" {
  type    = object({ a = string, b = number })
  default = { a = "1", b = 2 }
}
variable "st" {
  type    = set(string)
  default = ["b", "a"]
}
variable "nul" {
  type    = string
  default = null
}
variable "num" {
  type    = number
  default = 1.5
}
variable "b" {
  type    = bool
  default = true
}

locals {
  l  = ["a", "b"]
  ob = { a = 1, b = true }
  n  = 12345678901
  e  = []
  sp = split(",", "a,b,c")
  z  = var.b ? var.ls : var.m
}

source "null" "a" {
  communicator = "none"
}

build {
  sources = ["null.a"]
}
