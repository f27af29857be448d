src "null" "x" {
}

packer {
  bogus = 1
}
