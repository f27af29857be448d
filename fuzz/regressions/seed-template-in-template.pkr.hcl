locals { x = "${"%{ for i in range(3) }${i}%{ endfor }"}" }
