# Uploads given to the container's user with fix_upload_owner (`docker exec --user root …
# chown -R USER dest`): run_command's `-u 1000`, a uid alone, so the owner changes and the
# group stays root's, as docker cp left it; commands run as that user.
source "docker" "a" {
  image       = "REGISTRY/busybox:latest"
  discard     = true
  fix_upload_owner = true
  run_command = ["-d", "-i", "-t", "-u", "1000", "--entrypoint=/bin/sh", "--", "{{.Image}}"]
}
build {
  sources = ["source.docker.a"]
  provisioner "file" {
    content     = "uploaded"
    destination = "/tmp/up.txt"
  }
  provisioner "shell" {
    inline = ["id -u", "stat -c '%u %g %a' /tmp/up.txt", "cat /tmp/up.txt"]
  }
}
