locals {
  a = 1
}
locals {
  b = 
}
source "x" "y" {
  c = [
}
