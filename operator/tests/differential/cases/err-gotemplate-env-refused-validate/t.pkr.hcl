# env (and user, template_dir) are refused inside the options of HCL2 components.
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "breakpoint" {
    disable = true
    note    = "{{ env `HOME` }}"
  }
}
