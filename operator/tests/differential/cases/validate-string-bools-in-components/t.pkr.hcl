# A component's bool option takes "1" and "0" as cty converts them; "True" gets cty's hint.
source "null" "x" {
  communicator = "none"
}
build {
  sources = ["source.null.x"]
  post-processor "manifest" {
    strip_time = "1"
    strip_path = "0"
  }
  post-processor "manifest" {
    strip_time = "True"
  }
}
