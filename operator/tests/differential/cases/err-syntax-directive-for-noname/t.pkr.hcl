a = "%{ for in x }%{ endfor }"
