source "null" "a" {
  communicator = "none"
}

build {
  name    = "named"
  sources = ["source.null.a"]
  provisioner "shell-local" {
    name   = "prov-${build.name}"
    inline = ["true"]
  }
  post-processor "manifest" {
    name = build.name
  }
}

build {
  sources = ["source.null.a"]
  post-processor "shell-local" {
    name   = "pp-${build.name}-x"
    inline = ["true"]
  }
}
