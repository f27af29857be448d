who = "Kiln"
