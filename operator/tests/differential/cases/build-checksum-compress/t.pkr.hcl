source "file" "a" {
  content = "hello\n"
  target  = "hello.txt"
}
build {
  sources = ["source.file.a"]
  post-processor "checksum" {
    checksum_types = ["md5", "sha256"]
    output         = "{{.BuildName}}.{{.ChecksumType}}"
    keep_input_artifact = true
  }
}
build {
  name    = "gz"
  sources = ["source.file.a"]
  post-processor "compress" {
    output = "hello.tar"
    keep_input_artifact = true
  }
}
