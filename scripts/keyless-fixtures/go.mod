module kiln.dev/keyless-fixtures

go 1.22
