# SIGTERM while a provisioner runs (the harness sends it after 2 s): Packer's command says
# it is cancelling, the null build ends with the cancelled context's error, no cleanup
# provisioner runs, no post-processor, then "Wait completed" and "Cleanly cancelled", exit 1.
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["sleep 20"]
  }
  provisioner "shell-local" {
    inline = ["echo never"]
  }
  error-cleanup-provisioner "shell-local" {
    inline = ["echo cleanup"]
  }
  post-processor "manifest" {}
}
