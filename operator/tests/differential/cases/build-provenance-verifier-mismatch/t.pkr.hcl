# The provenance post-processor signing with a key: verifier mismatch (Packer's words, nothing written).
source "file" "a" {
  content = "hello"
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  post-processor "provenance" {
    signing_mode = "key"
    key = "ed.pem"
    verifier = "p256.pub"
  }
}
