source "null" "b" {
  communicator = "none"
}
build {
  sources = ["null.b"]
  provisioner "powershell" {
    inline = ["x"]
    execution_policy = "none"
    elevated_execute_command = "{{ .Path }}"
    execute_command = "{{ .Vars }}"
  }
  provisioner "powershell" {
    inline = ["x"]
    execution_policy = "ReMoTeSiGnEd"
    elevated_user = "u"
    elevated_password = "p"
    debug_mode = "2"
    valid_exit_codes = [0, 3010]
    env = { A = "b" }
    binary = true
    remote_path = "c:/x.ps1"
    remote_env_var_path = "c:/e.ps1"
    skip_clean = true
    start_retry_timeout = "10m"
    elevated_env_var_format = "%s=%s"
    env_var_format = "%s=%s"
    pause_after = "5s"
    use_pwsh = true
    packer_build_name = "x"
  }
  provisioner "powershell" {
    inline = ["x"]
    execution_policy = -4
  }
  provisioner "powershell" {
    inline = ["x"]
    execution_policy = "Bypass"
  }
}
