source "file" "s1" {
  content = "hello"
  target  = "s1.txt"
}

build {
  sources = ["source.file.s1"]

  post-processors {
    post-processor "checksum" {
      checksum_types = ["sha512"]
      output         = "{{.BuildName}}.{{.ChecksumType}}"
    }
    post-processor "checksum" {
      checksum_types = ["sha256", "sha512", "md5"]
      output         = "{{.BuildName}}.{{.ChecksumType}}"
    }
    post-processor "manifest" {
      output     = "m.json"
      strip_path = true
      strip_time = true
    }
  }
}
