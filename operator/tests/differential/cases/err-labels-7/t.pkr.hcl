build "x" {}
