source "null" "a" {
  communicator = "none"
}
source "null" "b" {
  communicator = "none"
}
build {
  sources = ["source.null.a", "source.null.b"]
  provisioner "shell-local" {
    command = "echo from ${source.name}"
    override = {
      b = {
        inline = ["echo both set for b"]
      }
    }
  }
}
