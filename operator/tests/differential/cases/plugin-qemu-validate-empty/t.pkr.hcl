source "qemu" "a" {}
build {
  sources = ["source.qemu.a"]
}
