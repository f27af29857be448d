locals {
  stamp = formatdate("YYYYMMDD", "2024-01-02T00:00:00Z")
}
