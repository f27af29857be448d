source "null" "a" {
  communicator = "none"
}
build {
  sources = ["null.a"]
  post-processor "checksum" {
    checksum_types = ["md5", "crc32", "sha3"]
  }
}
