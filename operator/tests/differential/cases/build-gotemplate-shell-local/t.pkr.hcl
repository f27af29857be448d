# Go templates of the plugin SDK inside shell-local options: rendered when the provisioner
# is prepared (inline, environment_vars) or when it runs (execute_command, with .Vars and
# .Script).
source "null" "web" {
  communicator = "none"
}
build {
  sources = ["source.null.web"]
  provisioner "shell-local" {
    environment_vars = ["WHO={{ build_name }}-{{ build_type }}"]
    inline = [
      "echo 'name={{ build_name }} type={{ build_type }} version={{ packer_version }}'",
      "echo 'upper={{ upper \"abc\" }} lower={{ lower \"DEF\" }} split={{ split \"a,b,c\" \",\" 2 }}'",
      "echo 'replace={{ replace \"a\" \"x\" 2 \"aaaa\" }} all={{ replace_all \"-\" \"_\" \"a-b-c\" }}'",
      "echo 'pwd={{ pwd }} missing={{ .Nope }} printf={{ printf \"%03d\" 7 }}'",
      "echo \"who=$WHO\"",
      "echo 'trim {{- \"x\" -}} med {{/* comment */}}end'",
      "echo '{{ if eq build_type \"null\" }}is-null{{ else }}not-null{{ end }} {{ with $x := upper \"q\" }}{{ $x }}{{ end }} {{ html \"<&>\" }}'",
    ]
  }
  provisioner "shell-local" {
    execute_command = ["/bin/sh", "-c", "echo 'exec {{ build_name }} vars=[{{ .Vars }}]'; {{ .Vars }} /bin/sh {{ .Script }}"]
    env             = { B = "{{ build_type }}" }
    inline          = ["echo \"B=$B\""]
  }
}
