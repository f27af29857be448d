source "null" "base" {
  communicator = "none"
}
build {
  source "source.null.base" {
    name = "first"
  }
  source "null.base" {
    name = "second"
  }
  provisioner "shell-local" {
    inline = ["echo ${source.name} ${build.name}"]
  }
}
