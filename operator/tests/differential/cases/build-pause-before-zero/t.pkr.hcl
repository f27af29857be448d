source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    pause_before = "0s"
    inline       = ["echo no pause"]
  }
  provisioner "shell-local" {
    pause_before = "0s"
    timeout      = "10s"
    inline       = ["echo a timeout"]
  }
  provisioner "shell-local" {
    timeout = "0s"
    inline  = ["echo nothing"]
  }
}
