source "file" "a" {
  content = join("", [for i in range(1000) : "line ${i}: ${sha256(tostring(i * 7))} ${i % 13 == 0 ? "thirteen" : "other"}\n"])
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  post-processor "compress" {
    output              = "a.txt.xz"
    keep_input_artifact = true
  }
  post-processor "compress" {
    output = "b.tar.xz"
  }
}
