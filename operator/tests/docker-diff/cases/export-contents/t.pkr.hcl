# What an export_path tar (docker export) holds, listed with owners: the image's files and
# the container's init files (Docker's init layer) and mount points, owner names from the
# image's /etc/passwd and /etc/group.
source "docker" "a" {
  image       = "REGISTRY/busybox:latest"
  export_path = "image.tar"
}
build {
  sources = ["source.docker.a"]
  post-processor "shell-local" {
    inline = ["tar -tvf image.tar | grep -v ' bin/.* -> busybox' | awk '{print $1, $2, $NF}' | sort -k3"]
  }
}
