local {
  expression = 1
}
