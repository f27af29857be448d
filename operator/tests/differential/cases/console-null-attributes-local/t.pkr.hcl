variable "address" {
  type    = string
  default = null
}

variable "servers" {
  type    = list(string)
  default = []
}

locals {
  nested = {
    inner = { gone = null, kept = "yes" }
    list  = [null, "x"]
  }
}
