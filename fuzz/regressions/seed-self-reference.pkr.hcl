x = [for a in b: a]
locals { l = local.l }
