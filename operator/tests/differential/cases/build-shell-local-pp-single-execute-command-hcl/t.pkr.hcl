# The shell-local post-processor runs a one-element execute_command with `sh -c` (its old
# single-string form); the provisioner does not.
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  post-processor "shell-local" {
    inline          = ["echo from the post-processor"]
    execute_command = ["/bin/sh {{.Script}}"]
  }
}
