source "null" "a" {
  communicator      = "none"
  packer_force      = true
  packer_build_name = "renamed"
  packer_on_error   = "abort"
}
source "file" "f" {
  content              = "hello"
  target               = "out.txt"
  packer_user_variables = { a = "b" }
}
build {
  sources = ["source.null.a", "source.file.f"]
  provisioner "shell-local" {
    inline       = ["echo ${build.name} ${source.name}"]
    packer_debug = true
  }
  post-processor "manifest" {
    output                     = "m.json"
    packer_sensitive_variables = ["x"]
  }
}
