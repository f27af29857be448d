source "null" "a" {
  communicator = "none"
  bogus        = 1
}

build {
  sources = ["null.a"]

  provisioner "shell-local" {
    inline = ["true"]
    nope   = true
  }

  post-processor "manifest" {
    nope = 2
  }

  error-cleanup-provisioner "shell-local" {
    nope = 3
  }
}
