source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["echo"]
    name   = null
  }
  provisioner "shell-local" {
    inline = ["echo"]
    only   = null
  }
  provisioner "shell-local" {
    inline      = ["echo"]
    max_retries = "many"
  }
  provisioner "shell-local" {
    inline            = ["echo"]
    continue_on_error = "maybe"
  }
  provisioner "shell-local" {
    inline = ["echo"]
    except = ["a", {}]
  }
  provisioner "shell-local" {
    inline = ["echo"]
    only   = "null.a"
  }
  provisioner "shell-local" {
    inline       = ["echo"]
    pause_before = ["1s"]
  }
  post-processor "manifest" {
    keep_input_artifact = null
    name                = 5
  }
  post-processor "manifest" {
    keep_input_artifact = "yes"
  }
  post-processor "manifest" {
    only = ["a", null]
  }
  post-processor "manifest" {
    name = var.nope
  }
}
build {
  description = null
  sources     = ["source.null.a"]
}
