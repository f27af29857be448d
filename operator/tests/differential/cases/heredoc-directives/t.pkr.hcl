locals {
  h = <<-EOT
    start
    %{ for x in ["a", "b"] ~}
      item ${x}
      %{ for y in [1, 2] }
        inner ${y}
      %{ endfor }
    %{ endfor ~}
    %{ if true }
    yes
    %{ endif }
    end
  EOT
}
