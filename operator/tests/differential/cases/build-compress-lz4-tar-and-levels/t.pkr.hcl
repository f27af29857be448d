source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]

  provisioner "shell-local" {
    inline = [
      "seq 1 60000 > numbers.txt",
      "yes 'packer kiln lz4' | head -c 300000 > words.txt",
    ]
  }

  post-processors {
    post-processor "artifice" {
      files = ["numbers.txt", "words.txt"]
    }
    post-processor "compress" {
      output              = "both.tar.lz4"
      keep_input_artifact = true
    }
  }
  post-processors {
    post-processor "artifice" {
      files = ["numbers.txt"]
    }
    post-processor "compress" {
      output              = "numbers-hc.lz4"
      compression_level   = 4
      keep_input_artifact = true
    }
  }
}
