source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  post-processors {
    post-processor "manifest" {
      only   = ["a"]
      except = ["b"]
    }
    post-processor "manifest" {
      only   = ["a"]
      except = ["b"]
    }
  }
  post-processors {
    post-processor "manifest" {
      only   = ["a"]
      except = ["b"]
    }
    post-processor "manifest" "x" {
    }
    keep = true
    other {
    }
  }
  post-processors {
    post-processor "manifest" {
      keep_input_artifact = "x"
    }
  }
}
