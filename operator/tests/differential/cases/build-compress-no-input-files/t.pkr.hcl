source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  post-processor "compress" {
    output = "out/a.gz"
  }
  post-processor "compress" {
    output = "out/a.lz4"
  }
  post-processor "compress" {
    output = "out/a.xz"
  }
  post-processor "compress" {
    output = "out/a.bgzf"
  }
  post-processor "compress" {
    output = "out/a.bin"
  }
}
