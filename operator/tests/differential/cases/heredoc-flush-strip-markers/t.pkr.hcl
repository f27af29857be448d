locals {
  a = <<-EOT
      first
    %{~ for n in ["x", "y"] ~}
      - ${n}
    %{~ endfor ~}
    %{ if false ~}
    no
    %{~ else ~}
    else-branch
    %{ endif }
    last
    EOT
  b = <<-EOT
    ${"lead"} text
      %{ for n in [1] }${n}%{ endfor }
    tail
    EOT
  c = <<EOT
  %{ for n in [1, 2] ~}
  n=${n}
  %{ endfor ~}
EOT
}
