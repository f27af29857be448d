source "null" "b" {
  communicator = "none"
}
build {
  sources = ["null.b"]
  provisioner "windows-restart" {
    restart_command       = "shutdown /r /t 5"
    restart_check_command = "echo {{ build_name }}"
    restart_timeout       = "15m"
    check_registry        = true
    registry_keys         = []
    pause_before          = "1s"
  }
  error-cleanup-provisioner "windows-restart" {
    restart_timeout = "1h"
  }
}
