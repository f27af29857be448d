source "null" "a" {
  communicator = "none"
}
source "null" "b" {
  communicator = "none"
}
build {
  name    = "one"
  sources = ["source.null.a", "source.null.b"]
  provisioner "shell-local" {
    inline = ["echo ${source.name}"]
  }
}
