a = <<EOT
x$