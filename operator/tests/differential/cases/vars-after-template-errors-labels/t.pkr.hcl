variable {
}
locals {
  b = 1
}
source "null" {
  communicator = "none"
}
data "x" {
}
local {
}
communicator "a" {
}
variable "ok" {
  foo = 1
}
