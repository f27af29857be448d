source "null" "missing" {
  communicator = "winrm"
}

source "null" "complete" {
  communicator   = "winrm"
  winrm_host     = "127.0.0.1"
  winrm_username = "u"
  winrm_password = "p"
  winrm_use_ssl  = true
}

source "null" "docker" {
  communicator = "docker"
}

build {
  sources = ["source.null.missing", "source.null.complete", "source.null.docker"]
}
