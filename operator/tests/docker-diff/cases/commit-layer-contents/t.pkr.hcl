# What the committed layer holds, listed from a docker-save tar (the layer gunzipped when it
# is compressed: Kiln's are, Docker's are not): a file a provisioner wrote, `/tmp` (its
# time moved), and the empty mount points made for container_dir, volumes (with the
# parents they needed) and tmpfs.
source "docker" "a" {
  image   = "REGISTRY/busybox:latest"
  commit  = true
  tmpfs   = ["/newtmp"]
  volumes = { "/tmp" = "/newvol", "/var" = "/mnt/deep/vol" }
}
build {
  sources = ["source.docker.a"]
  provisioner "shell" {
    inline = ["echo x > /added.txt"]
  }
  post-processors {
    post-processor "docker-tag" {
      repository = "probe/saved"
      tags       = ["1"]
    }
    post-processor "docker-save" {
      path = "saved.tar"
    }
  }
  post-processor "shell-local" {
    inline = ["l=$(tar -xOf saved.tar manifest.json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0][\"Layers\"][-1])')", "tar -xOf saved.tar $l | gzip -dcf | tar -t | sort"]
  }
}
