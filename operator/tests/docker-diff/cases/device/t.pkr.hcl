# Host devices (the builder's `device` and run_command's --device): made in the
# container with the host's type and mode, under the name given, usable.
source "docker" "a" {
  image       = "REGISTRY/busybox:latest"
  discard     = true
  device      = ["/dev/zero:/dev/kzero:rw"]
  run_command = ["-d", "-i", "-t", "--device=/dev/full:/dev/kfull", "--entrypoint=/bin/sh", "--", "{{.Image}}"]
}
build {
  sources = ["source.docker.a"]
  provisioner "shell" {
    inline = [
      "head -c 4 /dev/kzero | wc -c", "ls -l /dev/kzero | cut -c1-10",
      "{ echo x > /dev/kfull; } 2>&1 || echo full",
    ]
  }
}
