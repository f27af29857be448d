# The provenance post-processor signing with a key: notpem (Packer's words, nothing written).
source "file" "a" {
  content = "hello"
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  post-processor "provenance" {
    signing_mode = "key"
    key = "notpem.pem"
  }
}
