# Keyless provenance signing without an ambient OIDC token: Packer's signer error, nothing
# written.
source "file" "a" {
  content = "hello"
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  post-processor "provenance" {
    signing_mode        = "keyless"
    keyless_identity    = "https://github.com/kiln/kiln/.github/workflows/build.yml@refs/heads/main"
    keyless_oidc_issuer = "https://token.actions.githubusercontent.com"
    fulcio_url          = "http://127.0.0.1:9"
    upload_tlog         = true
  }
}
