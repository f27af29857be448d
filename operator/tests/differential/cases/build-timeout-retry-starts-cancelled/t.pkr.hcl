# A timeout cancels the provisioner's context for good (Packer's plugin RPC server keeps
# it): the retries start cancelled. shell-local's command does not start; the shell
# provisioner's upload is tried once and its retry loop stops.
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    timeout     = "1s"
    max_retries = 2
    inline      = ["sleep 5", "echo never"]
  }
}
build {
  name    = "remote"
  sources = ["source.null.a"]
  provisioner "shell" {
    timeout     = "2s"
    max_retries = 2
    inline      = ["echo remote"]
  }
}
