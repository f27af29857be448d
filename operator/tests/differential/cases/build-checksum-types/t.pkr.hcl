source "file" "a" {
  content = "hello"
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  post-processor "checksum" {
    checksum_types = ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"]
    output         = "sums/{{.BuildName}}_{{.ChecksumType}}.txt"
  }
}
