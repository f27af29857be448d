# container_dir, exec_user, changes of several kinds, downloads, build.* values in
# provisioners and post-processors, the manifest.
source "docker" "a" {
  image         = "REGISTRY/busybox:latest"
  commit        = true
  container_dir = "/pf"
  exec_user     = "root"
  changes       = ["USER root", "EXPOSE 8080", "ENTRYPOINT [\"/bin/sh\"]", "VOLUME /data"]
  message       = "m"
  author        = "a"
}
build {
  sources = ["source.docker.a"]
  provisioner "shell" {
    inline = ["echo type=${build.PackerBuilderType} conn=${build.ConnType} user=${build.User} host=[${build.Host}] port=${build.Port}", "ls -d /pf"]
  }
  provisioner "file" {
    source      = "t.pkr.hcl"
    destination = "/tmp/"
  }
  provisioner "file" {
    source      = "/etc/passwd"
    destination = "got/passwd"
    direction   = "download"
  }
  post-processor "manifest" {
    strip_time = true
  }
  post-processor "shell-local" {
    inline = ["echo id=${build.ID} | wc -c", "echo sha=${build.ImageSha256} | cut -c1-11", "echo src=${build.SourceImageSha256} | cut -c1-11"]
  }
}
