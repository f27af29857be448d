source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    environment_vars = ["A=1"]
    env_var_format   = "export %s='%s'; "
    execute_command  = ["/bin/sh", "-c", "{{.Vars}} echo A=$A; sh {{.Script}}"]
    inline           = ["echo in script"]
  }
}
