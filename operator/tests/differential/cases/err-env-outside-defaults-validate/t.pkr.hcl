# env() exists only where variable defaults are evaluated; anywhere else it is unknown.
locals {
  home = env("HOME")
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
}
