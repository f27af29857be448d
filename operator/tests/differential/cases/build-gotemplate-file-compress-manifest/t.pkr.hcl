# Templates in the file builder, the file provisioner and the compress, checksum and
# manifest post-processors' output (compress and checksum render it when they run, with
# .BuildName and .BuilderType). One build: two builds race in Packer even with
# -parallel-builds=1 (their post-processors interleave in random order).
source "file" "doc" {
  content = "built by {{ build_name }} ({{ build_type }})\n"
  target  = "out-{{ build_name }}.txt"
}
build {
  sources = ["source.file.doc"]
  post-processor "compress" {
    output = "{{ .BuildName }}-{{ build_type }}-{{ .BuilderType }}.tar"
  }
  post-processor "manifest" {
    output     = "manifest-{{ build_name }}.json"
    strip_path = true
    custom_data = {
      "by_{{ build_type }}" = "{{ upper build_name }}"
    }
  }
  post-processor "checksum" {
    checksum_types = ["sha256"]
    output         = "{{ .BuildName }}_{{ .ChecksumType }}.{{ lower \"SUM\" }}"
  }
}
