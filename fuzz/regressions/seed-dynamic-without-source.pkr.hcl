build { dynamic "source" { for_each = [1]
 labels = ["null.a"]
 content { } } }
