locals {
  o = { a = 1, a = 2, "a" = 3, b = { c = 1, c = 2 } }
  h = <<-EOT
    x
    %{~ for n in [1, 2] ~}
      - ${n}
    %{~ endfor ~}
    %{ if true ~}
    y
    %{ endif }
    EOT
}
