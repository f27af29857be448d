source "null" "a" {
  communicator = "none"
}
build {
  name    = "b"
  sources = ["source.null.a"]
  provisioner "shell-local" {
    only   = ["null.a"]
    inline = ["echo only-a"]
  }
  provisioner "shell-local" {
    except = ["b.null.a"]
    inline = ["echo except-b"]
  }
  post-processor "shell-local" {
    only   = ["b.null.a"]
    inline = ["echo pp-only"]
  }
}
