a = "%{ for x in y }%{ endif }"
