variable "secret" {
  type      = string
  default   = "s3cr3t"
  sensitive = true
}
variable "plain" {
  type    = string
  default = "pl"
}
variable "list" {
  type    = list(string)
  default = ["a", "b"]
}
locals {
  joined = join("-", var.list)
}
data "null" "d" {
  input = "from-data-${var.plain}"
}
variable "checked" {
  type    = string
  default = "ok"
  validation {
    condition     = length(var.checked) > 1
    error_message = "The checked variable is too short."
  }
}
source "null" "s0" {
  communicator = "none"
}
source "null" "s1" {
  communicator = "none"
}
source "file" "s2" {
  content = "${var.secret}"
  target  = "s2.txt"
}
build {
  name = "b0"
  sources = ["source.file.s2", "source.null.s1"]
  provisioner "shell-local" {
    inline = ["echo hello again", "echo \"${build.PackerRunUUID} $PACKER_BUILD_NAME\""]
    only = ["null.s1"]
  }
  provisioner "shell-local" {
    inline = ["echo \"${local.joined} ${var.checked}\"", "echo hello again"]
    environment_vars = ["FOO=x"]
    override = {
    s2 = {
      inline = ["echo overridden"]
    }
  }
  }
  provisioner "shell-local" {
    command = "echo from-command ${source.name}"
    env = { FOO = "a b" }
    valid_exit_codes = [1, 3]
  }
  post-processor "shell-local" {
    inline = ["exit 2", "echo \"${source.name} $PACKER_BUILDER_TYPE ${build.PackerRunUUID}\""]
    name = "pp1"
  }
}
build {
  name = "b1"
  sources = ["source.null.s0", "source.null.s1"]
  provisioner "shell-local" {
    inline = ["echo \"${source.name} ${length(var.list)} {{ build_type }}\"", "if [ -e marker ]; then echo again; else touch marker; echo first; exit 4; fi", "printf 'a\\nb\\n'"]
    valid_exit_codes = [4, 2]
    execute_command = ["/bin/sh", "-c", "{{.Vars}} /bin/sh {{.Script}}"]
    timeout = "1m"
    override = {
    s1 = {
      inline = ["echo overridden"]
    }
  }
  }
  provisioner "shell-local" {
    inline = ["if [ -e marker ]; then echo again; else touch marker; echo first; exit 4; fi", "printf 'a\\nb\\n'"]
    pause_before = "1s"
  }
  provisioner "shell-local" {
    inline = ["echo \"${var.checked} ${length(var.list)}\"", "echo \"${data.null.d.output} ${build.name} ${var.plain}\""]
    timeout = "1m"
    override = {
    s1 = {
      inline = ["echo overridden"]
    }
  }
  }
  error-cleanup-provisioner "breakpoint" {
    disable = true
    note = "note ${source.name}"
  }
}
