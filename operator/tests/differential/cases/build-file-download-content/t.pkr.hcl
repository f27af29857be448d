# `content` with direction = "download" is no error: the content's temporary file is one
# more source, downloaded (here through no communicator: the download fails).
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "file" {
    direction   = "download"
    content     = "x"
    destination = "out/x"
  }
}
