# One file compressed alone (no tar), at the level Packer defaults to, named explicitly.
source "file" "a" {
  content = join("", [for i in range(50) : join("", [for j in range(100) : "${sha256("${(i * 100 + j) % 300}")}\n"])])
  target  = "digests.txt"
}
build {
  sources = ["source.file.a"]
  post-processor "compress" {
    output              = "digests.txt.gz"
    compression_level   = 5
    keep_input_artifact = true
  }
}
