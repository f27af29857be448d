source "null" "a" {
  ssh_host             = "127.0.0.1"
  ssh_private_key_file = "nokey"
}
build {
  sources = ["null.a"]
}
