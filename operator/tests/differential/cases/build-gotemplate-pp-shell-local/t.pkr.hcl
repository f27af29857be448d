# The shell-local post-processor's templates see its input artifact's data (the null
# builder's: ID only).
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  post-processor "shell-local" {
    inline = ["echo 'pp id {{ \"{{\" }} .ID }} run {{ \"{{\" }} .PackerRunUUID }} b {{ \"{{\" }} .BuildName }}'"]
    execute_command = ["/bin/sh", "-c", "{{ .Vars }} /bin/sh {{ .Script }}; echo 'exec id {{ .ID }}'"]
  }
}
