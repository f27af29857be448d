variable "lang" {
  type    = string
  default = "en-US"
}

locals {
  answers = {
    lang     = var.lang
    timezone = "UTC"
    lang     = "fr-FR"
  }
}
