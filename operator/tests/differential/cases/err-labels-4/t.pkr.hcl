source "null" {}
