# The provenance post-processor, unsigned: an in-toto SLSA v1 statement beside the artifact.
source "file" "a" {
  content = "hello"
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  post-processor "provenance" {
  }
}
