# export_path then docker-import (the export artifact is "Container"), then docker-save
# into a missing directory: Packer's "Error creating output file".
source "docker" "a" {
  image       = "REGISTRY/busybox:latest"
  export_path = "exp.tar"
}
build {
  sources = ["source.docker.a"]
  post-processors {
    post-processor "docker-import" {
      repository = "REGISTRY/imported"
      tag        = "t1"
      changes    = ["ENV A=b"]
    }
    post-processor "docker-save" {
      path = "nodir/saved.tar"
    }
  }
}
