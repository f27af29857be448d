source "vsphere-iso" "a" {
  vm_name = "x"
}

source "null" "b" {
  communicator = "none"
}

build {
  sources = ["source.vsphere-iso.a", "null.b"]

  provisioner "shel" {
    inline = ["echo"]
  }

  error-cleanup-provisioner "ansible-local" {}

  post-processor "vagrant-cloud" {}
  post-processors {
    post-processor "manifes" {}
  }
}
