source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    pause_before = "1s"
    inline       = ["echo paused"]
  }
  provisioner "shell-local" {
    timeout = "10s"
    inline  = ["echo timed"]
  }
  provisioner "shell-local" {
    max_retries = 2
    inline      = ["if [ -e marker ]; then echo ok; else touch marker; echo failing; exit 3; fi"]
  }
}
