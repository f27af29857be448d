# A local build with no machine: the null builder runs provisioners on this host,
# the file builder writes a file, and the manifest post-processor records both.

source "null" "greeter" {
  communicator = "none"
}

source "file" "motd" {
  content = "${local.message}\n"
  target  = "${local.out_dir}/motd.txt"
}

build {
  name        = "hello"
  description = "Says hello twice."

  sources = ["source.null.greeter", "source.file.motd"]

  provisioner "shell-local" {
    inline = [
      "echo '${local.message}' from ${source.type}.${source.name}",
      "echo token is ${var.api_token}",
    ]
  }

  post-processor "manifest" {
    output     = "${local.out_dir}/manifest.json"
    strip_path = true
    custom_data = {
      greeting = var.greeting
    }
  }
}
