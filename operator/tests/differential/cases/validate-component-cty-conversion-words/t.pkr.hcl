# hcldec's type errors in cty's words: the element or key that does not convert.
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  post-processor "manifest" {
    custom_data = { a = [1] }
  }
  post-processor "manifest" {
    custom_data = { a = "x", b = { c = 1 } }
  }
  post-processor "manifest" {
    custom_data = ["x"]
  }
  post-processor "checksum" {
    checksum_types = ["x", [1]]
  }
  post-processor "checksum" {
    checksum_types = ["x", {}]
  }
}
