# execute_command is rendered only when the script runs: a failing function fails the
# provisioner then.
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline          = ["echo never"]
    execute_command = ["/bin/sh", "-c", "{{ .Vars }} {{ .Script }} {{ split .Script \"/\" 99 }}"]
  }
}
