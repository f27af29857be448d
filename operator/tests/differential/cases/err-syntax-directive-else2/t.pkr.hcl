a = "%{ if x }%{ else }%{ else }%{ endif }"
