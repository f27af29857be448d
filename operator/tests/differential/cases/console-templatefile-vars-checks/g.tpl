%{ for a in x }${a}${y.z}%{ endfor }
