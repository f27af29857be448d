# export_path, a bare image name (Docker's default tag), build.* values, a manifest.
source "docker" "a" {
  image       = "REGISTRY/busybox"
  export_path = "out/image.tar"
}
build {
  sources = ["source.docker.a"]
  provisioner "shell" {
    inline = ["echo id=${build.ID} | cut -c1-3", "echo ${build.SourceImageDigest} | cut -d@ -f1"]
  }
  post-processor "manifest" {}
}
