source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]

  provisioner "shell-local" {
    execute_command = ["/bin/sh", "-c", "echo {{.Vars}}; /bin/sh {{.Script}}"]
    inline          = ["echo prov {{ .ID }} {{ .PackerHTTPAddr }}"]
  }

  post-processor "shell-local" {
    execute_command = ["/bin/sh", "-c", "echo {{.Vars}}; /bin/sh {{.Script}}"]
    inline          = ["echo pp {{ .ID }} {{ .PackerHTTPAddr }} ${build.ID}"]
  }
}
