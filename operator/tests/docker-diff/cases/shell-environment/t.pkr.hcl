# environment_vars through the docker communicator: quotes, spaces, a dollar kept literal,
# an empty value; and the PACKER_ variables a script gets.
source "docker" "a" {
  image   = "REGISTRY/busybox:latest"
  discard = true
}
build {
  sources = ["source.docker.a"]
  provisioner "shell" {
    environment_vars = ["PLAIN=x", "QUOTED=it's \"here\"", "SPACES=a  b", "DOLLAR=$HOME", "EMPTY="]
    inline           = ["echo \"$PLAIN|$QUOTED|$SPACES|$DOLLAR|$EMPTY|\"", "env | grep PACKER_ | sort"]
  }
}
