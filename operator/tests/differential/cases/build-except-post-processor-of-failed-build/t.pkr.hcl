source "null" "a" {
  communicator = "none"
}
source "null" "b" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    command = "echo"
    inline  = ["echo both"]
  }
  post-processor "checksum" {
    name = "pp2"
  }
}
build {
  sources = ["source.null.b"]
  post-processor "shell-local" {
    name   = "pp3"
    inline = ["echo pp3"]
  }
}
