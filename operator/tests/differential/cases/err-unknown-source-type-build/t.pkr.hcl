build {
  sources = ["file.cho"]
}
