source "docker" "a" {
  image             = "debian:bookworm"
  commit            = true
  docker_path       = "podman"
  pty               = true
  run_command       = ["-d", "{{.Image}}", "/bin/sh"]
  tmpfs             = ["/run"]
  device            = ["/dev/fuse"]
  windows_container = true
  aws_profile       = "default"
  platform          = ""
  container_dir     = ""
  volumes           = { "/host" = "relative" }
  changes           = ["BOGUS x"]
  runtime           = "kata"
  login             = true
  packer_force      = true
  aws_force_use_public_ecr = true
}
source "docker" "b" {
  image     = "not a reference!"
  discard   = true
  ecr_login = true
}
build {
  sources = ["source.docker.a", "source.docker.b"]
}
