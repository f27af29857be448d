variable "x" {
  type = list(string)
  default = ["a"]
  validation {
    condition = alltrue([for s in var.x : length(s) > 0 && s != var.x[0]]) && length([for k, v in var.x : k]) > 0
    error_message = upper("No.")
  }
  validation {
    condition = var["x"] != null
    error_message = "Yes."
  }
}
