n = true
