# The shell provisioner's execute_command ({{ .Path }}, {{ .Vars }}), inline_shebang and
# valid_exit_codes through the docker communicator.
source "docker" "a" {
  image   = "REGISTRY/busybox:latest"
  discard = true
}
build {
  sources = ["source.docker.a"]
  provisioner "shell" {
    execute_command  = "chmod +x {{ .Path }}; env {{ .Vars }} sh -x {{ .Path }}"
    environment_vars = ["B=2"]
    inline_shebang   = "/bin/sh -e"
    inline           = ["echo B=$B", "exit 3"]
    valid_exit_codes = [0, 3]
  }
}
