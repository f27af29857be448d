a = 1 # c
b = ]
