source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    env = {
      GREETING = "hello world"
      EMPTY    = ""
    }
    environment_vars = ["OTHER=x"]
    inline_shebang   = "/bin/sh -e"
    inline           = ["echo \"$GREETING [$EMPTY] $OTHER\""]
  }
}
