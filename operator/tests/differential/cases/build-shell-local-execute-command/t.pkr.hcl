source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    environment_vars = ["A=1", "B=two words"]
    execute_command  = ["/bin/sh", "-c", "{{.Vars}} /bin/sh {{.Script}}; echo done"]
    inline           = ["echo A=$A B=$B"]
  }
  provisioner "shell-local" {
    command = "echo via command $PACKER_BUILD_NAME $PACKER_BUILDER_TYPE"
  }
}
