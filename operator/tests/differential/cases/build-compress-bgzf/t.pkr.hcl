# bgzf as biogo/hts writes it over Go's gzip: blocks cut where Go's writes fall (io.Copy's
# 32 KiB reads of one file; archive/tar's header, data and padding writes), the BC extra
# field, the empty last block and the EOF block; levels -1, 1, 9 and 0.
source "file" "a" {
  content = join("", [for i in range(40000) : "line ${i} of the artifact\n"])
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  post-processor "compress" {
    output = "one.bgzf"
  }
  post-processor "compress" {
    output            = "one9.bgzf"
    compression_level = 9
  }
  post-processor "compress" {
    output            = "one1.bgzf"
    compression_level = 1
  }
  post-processors {
    post-processor "artifice" {
      files = ["a.txt", "small.txt"]
    }
    post-processor "compress" {
      output = "many.tar.bgzf"
    }
  }
  post-processors {
    post-processor "artifice" {
      files = ["small.txt"]
    }
    post-processor "compress" {
      output            = "small.tar.bgzf"
      compression_level = 0
    }
  }
}
