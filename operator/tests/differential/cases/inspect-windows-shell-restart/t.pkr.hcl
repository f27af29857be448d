source "null" "b" {
  communicator = "none"
}
build {
  sources = ["null.b"]
  provisioner "windows-shell" {
    inline = ["x"]
    environment_vars = ["A=x"]
    env = { B = "c" }
    env_var_format = "%s"
    valid_exit_codes = [0, 1]
    binary = false
    remote_path = "c:/x.bat"
    execute_command = "{{ .Vars }} cmd /c {{ .Path }}"
    start_retry_timeout = "1m"
  }
  provisioner "windows-shell" {
    scripts = ["t.pkr.hcl"]
  }
  provisioner "windows-restart" {
    restart_timeout = "15m"
    registry_keys = ["k"]
    check_registry = true
    restart_command = "shutdown /r"
    restart_check_command = "{{ build_name }}"
  }
  error-cleanup-provisioner "windows-restart" {}
}
