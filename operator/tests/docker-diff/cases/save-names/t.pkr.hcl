# What a docker-save tar names: `docker save` of the artifact's id, which docker-tag made its
# last tag: only that tag in manifest.json's RepoTags and in `repositories`, the image's
# layers (the base's and the commit's).
source "docker" "a" {
  image   = "REGISTRY/busybox:latest"
  commit  = true
  changes = ["ENV A=1"]
}
build {
  sources = ["source.docker.a"]
  provisioner "shell" {
    inline = ["echo x > /added.txt"]
  }
  post-processors {
    post-processor "docker-tag" {
      repository = "probe/saved"
      tags       = ["1", "2"]
    }
    post-processor "docker-save" {
      path = "saved.tar"
    }
  }
  post-processor "shell-local" {
    inline = [
      "tar -xOf saved.tar manifest.json | python3 -c 'import json,sys; m=json.load(sys.stdin); print(len(m), [(x[\"RepoTags\"], len(x[\"Layers\"])) for x in m])'",
      "tar -xOf saved.tar repositories | python3 -c 'import json,sys; r=json.load(sys.stdin); print({k: sorted(v) for k, v in r.items()})'",
    ]
  }
}
