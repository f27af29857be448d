source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]

  provisioner "shell-local" {
    inline = [
      "mkdir -p data",
      "seq 1 40000 > data/numbers.txt",
      "printf 'héllo wörld\\n' > data/utf8-ñame.txt",
      ": > data/empty",
    ]
  }

  post-processors {
    post-processor "artifice" {
      files = ["data/numbers.txt", "data/utf8-ñame.txt", "data/empty"]
    }
    post-processor "compress" {
      output = "out.zip"
    }
  }
}
