data "null" {}
