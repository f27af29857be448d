# SIGTERM with -parallel-builds=1: the running build is cancelled and the next one never
# starts (Packer only logs "Interrupted, not going to start any more builds.").
source "null" "a" {
  communicator = "none"
}
source "null" "b" {
  communicator = "none"
}
build {
  sources = ["source.null.a", "source.null.b"]
  provisioner "shell-local" {
    inline = ["sleep 20"]
  }
}
