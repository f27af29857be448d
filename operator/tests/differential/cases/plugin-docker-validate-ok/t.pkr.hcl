variable "tag" {
  default = "bookworm"
}
source "docker" "a" {
  image   = "debian:${var.tag}"
  commit  = true
  changes = ["ENV A=1", "WORKDIR /srv"]
}
build {
  sources = ["source.docker.a"]
  provisioner "shell" {
    inline = ["echo hi"]
  }
}
