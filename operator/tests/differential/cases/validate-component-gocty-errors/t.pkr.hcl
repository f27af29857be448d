# What hcldec accepts but the SDK's gocty decoding of the value refuses (a null map value),
# before any template is rendered; and list(number) conversions in cty's words.
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["{{ .Nope }}"]
    env    = { a = "x", b = null }
  }
  provisioner "shell-local" {
    valid_exit_codes = ["a"]
    inline           = ["x"]
  }
  provisioner "shell-local" {
    valid_exit_codes = [[1]]
    inline           = ["x"]
  }
  provisioner "shell-local" {
    valid_exit_codes = ["1", 2]
    inline           = ["x"]
  }
}
