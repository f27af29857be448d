source "file" "a" {
  content = "{{ template_dir }}"
  target  = "x.txt"
}
build {
  sources = ["source.file.a"]
}
