# The container's capabilities: Docker's default set, cap_add and cap_drop applied (the
# builder's and run_command's), as /proc shows them to a provisioner; a dropped one refuses.
source "docker" "a" {
  image       = "REGISTRY/busybox:latest"
  discard     = true
  cap_add     = ["NET_ADMIN"]
  cap_drop    = ["CHOWN"]
  run_command = ["-d", "-i", "-t", "--cap-add=SYS_TIME", "--cap-drop", "MKNOD", "--entrypoint=/bin/sh", "--", "{{.Image}}"]
}
build {
  sources = ["source.docker.a"]
  provisioner "shell" {
    inline = [
      "grep ^Cap /proc/self/status",
      "touch /tmp/f && chown 65534 /tmp/f || echo chown refused",
    ]
  }
}
