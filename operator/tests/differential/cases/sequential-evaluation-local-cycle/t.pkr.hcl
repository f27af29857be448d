# Separate `local` blocks: their order is the file's (a `locals` block's is a Go map's).
local "a" {
  expression = local.b
}

local "b" {
  expression = local.a
}
