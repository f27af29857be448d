source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]

  provisioner "shell-local" {
    pause_before = "-1s"
    inline       = ["echo paused"]
  }

  provisioner "shell-local" {
    max_retries = -1
    inline      = ["echo failing", "exit 3"]
  }
}
