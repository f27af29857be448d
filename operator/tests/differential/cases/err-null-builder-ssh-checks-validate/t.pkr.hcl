source "null" "a" {
  ssh_host                 = "127.0.0.1"
  ssh_username             = "u"
  ssh_password             = "p"
  ssh_agent_auth           = true
  ssh_certificate_file     = "c"
  ssh_file_transfer_method = "rsync"
  ssh_bastion_host         = "b"
  ssh_bastion_username     = "bu"
  ssh_proxy_host           = "p"
  ssh_local_tunnels        = ["8080", "x:h:80", "8080:h"]
  ssh_remote_tunnels       = ["1:h:y"]
}
build {
  sources = ["null.a"]
}
