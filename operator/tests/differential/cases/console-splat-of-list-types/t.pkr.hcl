variable "l" {
  type    = list(string)
  default = ["a", "b"]
}
variable "o" {
  type    = list(object({ n = string }))
  default = [{ n = "x" }]
}
