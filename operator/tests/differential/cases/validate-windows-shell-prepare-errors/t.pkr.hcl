source "null" "b" {
  communicator = "none"
}
build {
  sources = ["null.b"]
  provisioner "windows-shell" {
    script           = "a.bat"
    scripts          = ["b.bat"]
    inline           = ["x"]
    environment_vars = ["=x", "y"]
  }
  provisioner "windows-shell" {
  }
}
