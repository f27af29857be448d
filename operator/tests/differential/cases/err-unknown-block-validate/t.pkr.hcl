foo "x" {}
