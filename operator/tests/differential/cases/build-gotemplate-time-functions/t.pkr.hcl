# isotime, strftime, timestamp and uuid: one time per run; only their shape is compared
# (the suite normalises timestamps and UUIDs, not years or Unix times).
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = [
      "t='{{ timestamp }}'; case $t in *[!0-9]*|'') echo bad timestamp;; *) echo timestamp ok;; esac",
      "[ '{{ isotime \"2006\" }}' = '{{ strftime \"%Y\" }}' ] && echo isotime and strftime agree",
      "[ '{{ isotime \"2006-01-02\" }}' = \"$(date -u +%Y-%m-%d)\" ] && echo isotime is today",
      "echo 'uuid={{ uuid }}'",
    ]
  }
}
