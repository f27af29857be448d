# Function failures in cty's and go-cty-funcs' words: which are an argument's ("Invalid
# value for … parameter") and which the call's ("Call to function … failed"), and the
# checks cty makes first.
locals {
  calls = [
    alltrue(["a"]),
    alltrue([true, "x", 1]),
    anytrue(1),
    anytrue({ a = true }),
    coalesce(),
    range(1, 2, 0),
    range(2, 1, 0),
    range(1, 4, -1),
    chunklist([], -1),
    timeadd("2020-01-01T00:00:00Z", "1x"),
    timeadd("x", "1h"),
    rsadecrypt("x", "y"),
    rsadecrypt("aGVsbG8=", "no key here"),
  ]
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
}
