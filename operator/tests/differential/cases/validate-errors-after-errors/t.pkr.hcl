variable "s" {
  default = "hello"
}
variable "l" {
  type    = list(string)
  default = ["a", "b"]
}

locals {
  all = [
    ("a" + 1) && true,
    -("a" < 1),
    trimsuffix([], "x" * 2),
    anytrue(["x" * 2]),
    [for x in "a${[]}" : x],
    [for x in ("a" * 1 ? "a" : "b") : x],
    null.a[1 + "x"],
    "abc"[!1],
    ["a"][!1],
    { ("a" * 1) = "b" * 1, (null) = 1 },
    true ? {} : [for x in [1] : x * "a"],
    var.s[{} || 0],
    0.k[{ for k, v in "a" : k => v }],
    [for x in null : x]["B c" / var.l],
    cidrhost(var.l, "B c"),
    (var.s * 1).foo,
    var.s.foo[var.l * "x"],
    join(",", [[1]], var.s * 2),
  ]
}

source "null" "x" {
  communicator = "none"
}

build {
  sources = ["source.null.x"]
}
