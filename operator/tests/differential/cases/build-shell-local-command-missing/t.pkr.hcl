source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    execute_command = ["/nonexistent/kiln-shell", "{{.Script}}"]
    inline          = ["echo never"]
  }
}
