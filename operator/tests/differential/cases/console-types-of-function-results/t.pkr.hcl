variable "ll" {
  type    = list(list(string))
  default = [["a", "b"], ["c"]]
}
variable "mo" {
  type = map(object({ n = number, tags = list(string) }))
  default = { x = { n = 1, tags = ["t"] } }
}
variable "ms" {
  type    = map(string)
  default = { a = "1" }
}
locals {
  e  = element(var.ll, 0)
  i  = var.ll[0]
  f  = flatten(var.ll)
  v  = values(var.mo)
  k  = keys(var.ms)
  c  = concat(var.ll, [["z"]])
  m  = merge(var.ms, { b = "2" })
  sl = slice(var.ll, 0, 1)
  r  = reverse(var.ll)
  d  = distinct(var.ll)
  z  = zipmap(["a", "b"], var.ll)
  fo = [for x in var.ll : x]
  sp = var.mo[*]
  co = coalescelist(var.ll, [])
  tr = try(var.ll[0], [])
}
locals {
  ob = { a = ["x"], b = 1 }
  lo = lookup(local.ob, "a", [])
  lb = lookup(local.ob, "zz", "d")
  et = element(["a", 1], 1)
  t2 = try(var.ll[5], var.ll[1])
  c2 = coalescelist([], var.ll)
}
