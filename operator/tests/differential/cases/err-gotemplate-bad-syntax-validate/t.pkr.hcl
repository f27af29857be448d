source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["echo ok"]
    # Not rendered before the script runs, but checked when the provisioner is prepared.
    execute_command = ["/bin/sh", "-c", "{{.Vars}} {{ .Script }"]
  }
}
