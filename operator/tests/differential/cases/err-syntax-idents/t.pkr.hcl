a b c d
