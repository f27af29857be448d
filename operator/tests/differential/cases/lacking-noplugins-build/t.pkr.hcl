source "amazon-ebs" "ubuntu" {
  ami_name   = "kiln"
}

build {
  sources = ["source.amazon-ebs.ubuntu"]

  provisioner "ansible" {
    playbook_file = "play.yml"
  }

  post-processor "vagrant" {}
}
