n = var.i
