locals {
  a = <<EOT
x
EOT...
  EOT) ${1 + 1}
EOT${"y"}
EOTX
EOT
  b = <<-EOF
    one
    EOF, two
    EOF-three
    EOF
  c = "<<EOT"
}
