# hcl2template decodes a provisioner's block as written before the SDK merges its override:
# a type error in the block is reported for every source, the override's fix included, and
# the build's post-processors are then not decoded.
source "file" "a" {
  content = "a"
  target  = "a.txt"
}
source "file" "b" {
  content = "b"
  target  = "b.txt"
}
build {
  sources = ["source.file.a", "source.file.b"]
  provisioner "shell-local" {
    inline = "echo string"
    override = {
      a = {
        inline = ["echo fixed"]
      }
    }
  }
  post-processor "manifest" {
    custom_data = { a = [1] }
  }
}
