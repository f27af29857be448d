source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["echo one", "echo two", "echo three"]
    env    = { A = "1", B = "2" }
    override = {
      a = {
        inline = ["echo over $A $B $C"]
        env    = { C = "3", A = "x" }
      }
    }
  }
  provisioner "shell-local" {
    inline = ["echo one"]
    override = {
      a = {
        inline = ["echo over", "echo more"]
        env    = null
      }
    }
  }
}
