locals { stamp = "again" }

local "other" {
  expression = 1
}

local "other" {
  expression = 2
}
