# Owner names in a docker export: dockerd's tar looks them up chrooted into the container
# (the image's /etc/passwd and /etc/group name 1234), while 0 and 65534 are named root and
# nobody/nogroup whatever the image says; ids without a name stay numbers.
source "docker" "a" {
  image       = "REGISTRY/busybox:latest"
  export_path = "image.tar"
}
build {
  sources = ["source.docker.a"]
  provisioner "shell" {
    inline = [
      "mkdir /p && cd /p && touch f1 f2 f3 f4 f5 && chown 1:1 f1 && chown 1234:1234 f2 && chown 65534:65534 f3 && chown 0:100 f4 && chown 1234:0 f5",
      "printf 'zed:x:0:0::/:/bin/sh\\nann:x:1234:1234::/:/bin/sh\\nbad:x:1:1\\n' > /etc/passwd.new && mv /etc/passwd.new /etc/passwd",
      "printf 'grp:x:1234:\\n+nis:x:1:\\n' > /etc/group",
    ]
  }
  post-processor "shell-local" {
    inline = ["tar -tvf image.tar p/ | awk '{print $1, $2, $NF}'"]
  }
}
