# tmpfs mounts (the builder's `tmpfs` and run_command's --tmpfs): one file system each for
# the whole build (a file written by one command is there for the next), mounted with
# dockerd's options (noexec, nosuid, nodev, then the given ones, a later flag winning:
# exec), as /proc/mounts shows inside the container. An upload (docker cp) lands beneath
# the tmpfs, in the container's own file system, where commands do not see it.
source "docker" "a" {
  image       = "REGISTRY/busybox:latest"
  discard     = true
  tmpfs       = ["/scratch:size=1m,mode=700", "/run/t"]
  run_command = ["-d", "-i", "-t", "--tmpfs", "/other:exec,size=2m", "--entrypoint=/bin/sh", "--", "{{.Image}}"]
}
build {
  sources = ["source.docker.a"]
  provisioner "shell" {
    inline = [
      "grep ' /scratch ' /proc/mounts", "grep ' /run/t ' /proc/mounts", "grep ' /other ' /proc/mounts",
      "echo kept > /scratch/f", "ls -ld /scratch | cut -c1-10",
    ]
  }
  provisioner "file" {
    content     = "uploaded"
    destination = "/run/t/up.txt"
  }
  provisioner "shell" {
    inline = ["cat /scratch/f", "cat /run/t/up.txt 2>/dev/null || echo not in the tmpfs"]
  }
}
