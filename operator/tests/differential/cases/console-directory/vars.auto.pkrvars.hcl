name = "auto"
