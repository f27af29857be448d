locals {
  huge  = 1e400
  ratio = 1e400 / 1e399
  list  = [2.5E+999, -1e400, 10000]
}
