build {
  sources = ["null.a"]
}
