source "file" "a" {
  content = "hello"
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  post-processors {
    post-processor "compress" {
      output              = "a.tar.gz"
      keep_input_artifact = true
    }
    post-processor "checksum" {
      output = "a.sum"
    }
  }
  post-processor "shell-local" {
    inline = ["ls"]
  }
}
