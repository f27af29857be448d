source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline       = ["echo"]
    pause_before = "soon"
  }
  post-processor "manifest" "named" {
  }
  provisioner {
  }
  from "x" {
  }
  unknown_block {
  }
  nope = 1
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    timeout = "later"
  }
  from "x" {
  }
}
