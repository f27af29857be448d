# Every kind of encoder pgzip has: klauspost's fast levels (1, 3, 6), its lazy levels (7, 9;
# 12 is taken as 9), Huffman only (-2); the text is 1.7 MB, over four of Packer's blocks.
source "file" "a" {
  content = join("", [for i in range(300) : join("", [for j in range(100) : "${i}:${j} ${sha1("${j % 37}")} build ${i % 7}\n"])])
  target  = "data.txt"
}
build {
  sources = ["source.file.a"]
  post-processor "compress" {
    output              = "l1.tar.gz"
    compression_level   = 1
    keep_input_artifact = true
  }
  post-processor "compress" {
    output              = "l3.tar.gz"
    compression_level   = 3
    keep_input_artifact = true
  }
  post-processor "compress" {
    output              = "l6.tar.gz"
    compression_level   = 6
    keep_input_artifact = true
  }
  post-processor "compress" {
    output              = "l7.tar.gz"
    compression_level   = 7
    keep_input_artifact = true
  }
  post-processor "compress" {
    output              = "l9.tar.gz"
    compression_level   = 9
    keep_input_artifact = true
  }
  post-processor "compress" {
    output              = "huffman.tar.gz"
    compression_level   = -2
    keep_input_artifact = true
  }
  post-processor "compress" {
    output              = "over9.tar.gz"
    compression_level   = 12
    keep_input_artifact = true
  }
}
