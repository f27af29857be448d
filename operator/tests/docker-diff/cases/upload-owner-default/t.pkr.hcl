# fix_upload_owner unset in an HCL2 template: the plugin's default (true, set before the
# SDK decodes its config) is overwritten by the unset option, so uploads stay root's;
# commands run as root (exec_user) to show it.
source "docker" "a" {
  image       = "REGISTRY/busybox:latest"
  discard     = true
  exec_user   = "0"
  run_command = ["-d", "-i", "-t", "-u", "1000", "--entrypoint=/bin/sh", "--", "{{.Image}}"]
}
build {
  sources = ["source.docker.a"]
  provisioner "file" {
    content     = "uploaded"
    destination = "/tmp/up.txt"
  }
  provisioner "shell" {
    inline = ["stat -c '%u %g %a' /tmp/up.txt"]
  }
}
