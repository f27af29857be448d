source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["if [ -e marker ]; then echo again; exit 3; else touch marker; echo first; exit 4; fi"]
    max_retries = 2
    continue_on_error = true
  }
  provisioner "shell-local" {
    inline = ["if [ -e marker2 ]; then echo again; exit 0; else touch marker2; echo first; exit 4; fi"]
    max_retries = 2
    valid_exit_codes = [1]
  }
}
