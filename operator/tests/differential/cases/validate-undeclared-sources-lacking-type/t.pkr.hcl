source "null" "a" {
  communicator = "none"
}

build {
  name        = "mixed"
  description = <<EOF
Two lines
of description.
EOF
  sources = ["source.null.a", "source.amazon-ebs.b", "source.null.missing"]
  source "null.nowhere" {
    name = "renamed"
  }
  provisioner "shell" {
    inline = ["true"]
  }
  post-processor "manifest" {}
}
