source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  post-processor "shell-local" {
    environment_vars = ["FOO=bar", "EMPTY=", "SPACED=a b"]
    inline           = ["echo FOO=$FOO EMPTY=[$EMPTY] SPACED=$SPACED", "echo builder=$PACKER_BUILDER_TYPE name=$PACKER_BUILD_NAME"]
  }
}
