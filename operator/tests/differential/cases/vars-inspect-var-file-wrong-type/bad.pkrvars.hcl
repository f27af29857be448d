# the value of n
n = "abc"
