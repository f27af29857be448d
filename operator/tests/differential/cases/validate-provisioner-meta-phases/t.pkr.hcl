source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline       = ["echo"]
    only         = ["null.a"]
    except       = ["null.b"]
    timeout      = "x"
    pause_before = "y"
    override     = "not an object"
  }
  provisioner "shell-local" {
    inline       = ["echo"]
    timeout      = "x"
    pause_before = "y"
    override     = "not an object"
  }
  provisioner "shell-local" {
    inline   = ["echo"]
    timeout  = "x"
    override = { a = { inline = ["x"] }, b = "x" }
  }
  provisioner "shell-local" {
    inline       = ["echo"]
    timeout      = "x"
    pause_before = "y"
  }
  provisioner "shell-local" {
    inline  = ["echo"]
    timeout = "x"
  }
  error-cleanup-provisioner "shell-local" {
    max_retries = 1.5
    timeout     = "x"
  }
}
