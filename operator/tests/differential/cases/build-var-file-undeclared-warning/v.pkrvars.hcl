x = "from-file"
y = "undeclared"
