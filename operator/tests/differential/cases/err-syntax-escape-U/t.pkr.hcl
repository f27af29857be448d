a = "\U0011ffff"
b = "\U12"
