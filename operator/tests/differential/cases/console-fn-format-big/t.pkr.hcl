locals {
  third = 1 / 3
}
