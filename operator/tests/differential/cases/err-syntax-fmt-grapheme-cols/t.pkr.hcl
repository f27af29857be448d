a = "éé" b
