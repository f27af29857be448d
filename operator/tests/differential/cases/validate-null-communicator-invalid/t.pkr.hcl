# A communicator type the SDK does not know: its Prepare's "Communicator type … is invalid",
# then the null builder's own checks (for any type but "none"), reading ssh_password,
# ssh_private_key_file and ssh_agent_auth whatever the type.
source "null" "bogus" {
  communicator = "bogus"
}
source "null" "bogus_with_key" {
  communicator         = "telnet"
  ssh_private_key_file = "id"
  ssh_password         = "pw"
}
source "null" "bogus_with_agent" {
  communicator   = "serial"
  ssh_agent_auth = true
}
build {
  sources = ["source.null.bogus", "source.null.bogus_with_key", "source.null.bogus_with_agent"]
}
build {
  name = "again"
  # The builder's errors stay at the declared source block.
  source "source.null.bogus" {
    name = "renamed"
  }
}
