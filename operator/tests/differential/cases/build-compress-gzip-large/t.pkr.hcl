# Over 1 MiB of text: the .tar.gz spans several of pgzip's 500 000-byte blocks, each with the
# previous block's tail as its dictionary.
source "file" "big" {
  content = join("", [for i in range(1000) : join("", [for j in range(90) : "line ${i}-${j}: ${(i * 90 + j) * 7919 % 104729}\n"])])
  target  = "big.txt"
}
build {
  sources = ["source.file.big"]
  post-processor "compress" {
    output              = "big.tar.gz"
    keep_input_artifact = true
  }
}
