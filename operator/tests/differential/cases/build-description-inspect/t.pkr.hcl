source "null" "a" {
  communicator = "none"
}
build {
  name        = "described"
  description = <<-EOT
    A build with a description
    on two lines.
  EOT
  sources = ["source.null.a"]
  provisioner "shell-local" {
    name   = "named"
    inline = ["true"]
  }
  post-processors {
    post-processor "manifest" {
      name = "m"
    }
    post-processor "checksum" {}
  }
}
