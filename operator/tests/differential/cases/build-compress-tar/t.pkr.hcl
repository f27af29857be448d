source "file" "a" {
  content = "hello\n"
  target  = "hello.txt"
}

build {
  sources = ["source.file.a"]

  post-processor "compress" {
    output = "out/{{.BuildName}}.tar"
  }
}
