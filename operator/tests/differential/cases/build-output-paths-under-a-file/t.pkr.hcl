source "file" "a" {
  content = "a"
  target  = "a.txt"
}

source "file" "b" {
  content = "b"
  target  = "s.txt/deeper/b.txt"
}

build {
  sources = ["source.file.a", "source.file.b"]

  post-processor "checksum" {
    checksum_types = ["md5"]
    output         = "s.txt/sums/{{.ChecksumType}}"
  }
}

build {
  name    = "c"
  sources = ["source.file.a"]

  post-processor "compress" {
    output = "s.txt/c.tar.gz"
  }
}

build {
  name    = "d"
  sources = ["source.file.a"]

  post-processor "compress" {
    output = "adir"
  }
}
