locals {
  big     = 9007199254740993 + 1
  huge    = 18446744073709551616 * 18446744073709551616
  frac    = 0.1 + 0.2
  third   = "${1 / 3}"
  inf     = 1 / 0
  negzero = "${0 * -1}"
  rem     = [7 % 0, -7 % 3, -7.5 % 2]
  parsed  = parseint("ffffffffffffffffffffffffffffffff", 16)
  exp     = [1e300 * 1e300, 1e-300 * 1e-300, pow(2, 1024), log(0, 10)]
  text    = [convert("1e999999", number), convert("1e-999999", number), convert(".5", number), jsonencode(1 / 3)]
  yaml    = yamldecode("a: [yes, 0b11, 1_000, 2002-12-14]\nb: !!int 0x10\n")
  ranges  = [range(0.1, 0.5, 0.1), range(-3), max(1e300, 1 / 3), min(-0, 0)]
  formats = format("%d %x %v %f %e", 12345678901234567890, 255, 1 / 3, 2.5, 1e300)
}
source "null" "n" {
  communicator = "none"
}
build {
  sources = ["source.null.n"]
}
