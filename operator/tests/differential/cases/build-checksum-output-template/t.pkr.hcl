source "file" "a" {
  content = "hello"
  target  = "out/a.txt"
}
build {
  sources = ["source.file.a"]
  post-processor "checksum" {
    checksum_types = ["md5", "sha256"]
    output         = "sums/{{.BuildName}}_{{.BuilderType}}.{{.ChecksumType}}"
  }
}
