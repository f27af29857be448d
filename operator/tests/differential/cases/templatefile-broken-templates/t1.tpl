hello ${upper("x"
