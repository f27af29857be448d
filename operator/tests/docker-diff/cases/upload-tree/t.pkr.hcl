# Directories and a file uploaded as `docker cp` copies them: a missing destination becomes
# a copy of the source (`tree` and `tree/` alike, with its mode and time), an existing one
# receives the source itself (`tree`) or its contents (`tree/`) and keeps its own mode;
# modes, times and symlinks kept (setup.sh dates the sources 1998).
source "docker" "a" {
  image   = "REGISTRY/busybox:latest"
  discard = true
}
build {
  sources = ["source.docker.a"]
  provisioner "shell" {
    inline = ["mkdir -m 711 /exist /exist2"]
  }
  provisioner "file" {
    source      = "tree"
    destination = "/up"
  }
  provisioner "file" {
    source      = "tree/"
    destination = "/contents"
  }
  provisioner "file" {
    source      = "tree/"
    destination = "/exist"
  }
  provisioner "file" {
    source      = "tree"
    destination = "/exist2"
  }
  provisioner "file" {
    source      = "one.txt"
    destination = "/one.txt"
  }
  provisioner "shell" {
    inline = [
      "stat -c '%n %A %u:%g' /exist /exist2",
      "for p in $(find /up /contents /exist/* /exist2/* | sort) /one.txt; do stat -c '%n %A %u:%g %Y' $p; done",
      "readlink /up/link /exist2/tree/link",
    ]
  }
}
