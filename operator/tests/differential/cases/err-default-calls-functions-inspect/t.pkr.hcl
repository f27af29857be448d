# Variable defaults are evaluated with env() as their only function (Packer's
# decodeInputVariables): any other call is unknown, a near miss suggests env.
variable "upper" {
  default = upper("b")
}
variable "typo" {
  default = envv("HOME")
}
variable "can" {
  default = can(1)
}
variable "fine" {
  default = env("KILN_SURELY_UNSET_VARIABLE")
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
}
