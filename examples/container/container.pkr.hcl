# A container image from nothing, with no daemon, no registry and no network: the docker
# builder starts from `scratch` (an empty image), the file provisioner puts this machine's
# static busybox in it as /bin/sh, and a shell provisioner runs inside it (runc) to install
# busybox's commands and a program. The image is committed as one reproducible layer, tagged
# and saved to output/hello.tar, which `podman load` and `skopeo`/`umoci` read.
#
#   kiln build examples/container
#   podman load -i examples/container/output/hello.tar && podman run --rm kiln-example/hello

variable "busybox" {
  type        = string
  default     = "/bin/busybox"
  description = "A statically linked busybox (Debian: busybox-static)."
}

source "docker" "hello" {
  image  = "scratch" # Kiln extension: the empty base image, made locally
  commit = true
  changes = [
    "ENV PATH=/bin",
    "WORKDIR /",
    "CMD [\"/bin/hello\"]",
  ]
  author  = "Kiln example"
  message = "busybox and a greeting"
}

build {
  name    = "container"
  sources = ["source.docker.hello"]

  # docker-save writes into an existing directory (as Packer's does).
  provisioner "shell-local" {
    inline = ["mkdir -p ${path.root}/output"]
  }

  provisioner "file" {
    source      = var.busybox
    destination = "/bin/sh"
  }

  provisioner "shell" {
    inline = [
      "ln /bin/sh /bin/busybox",
      "busybox --install -s /bin",
      "mkdir -p /etc /root",
      "echo 'root:x:0:0:root:/root:/bin/sh' > /etc/passwd",
      "echo 'root:x:0:' > /etc/group",
      "echo 'Hello from an image Kiln built from scratch!' > /etc/motd",
      "printf '#!/bin/sh\\ncat /etc/motd\\necho \"busybox $(busybox | head -n 1 | cut -d\" \" -f2)\"\\n' > /bin/hello",
      "chmod 0755 /bin/hello",
      "chmod 1777 /tmp",
      "/bin/hello",
    ]
  }

  post-processors {
    post-processor "docker-tag" {
      repository = "kiln-example/hello"
      tags       = ["latest"]
    }
    post-processor "docker-save" {
      path = "${path.root}/output/hello.tar"
    }
  }
}
