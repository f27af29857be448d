# bzip2 as dsnet/compress writes it (Packer's encoder): level 9 by default, a given level
# 1 to 8, a tar of several files; a level above 9 fails when the archive is made.
source "file" "a" {
  content = join("", [for i in range(40000) : "line ${i} of the artifact\n"])
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  post-processor "compress" {
    output = "one.bzip2"
  }
  post-processor "compress" {
    output            = "one1.bzip2"
    compression_level = 1
  }
  post-processors {
    post-processor "artifice" {
      files = ["a.txt", "small.txt"]
    }
    post-processor "compress" {
      output            = "many.tar.bzip2"
      compression_level = 3
    }
  }
}
build {
  name    = "too_high"
  sources = ["source.file.a"]
  post-processor "compress" {
    output            = "bad.bzip2"
    compression_level = 10
  }
}
