module kiln.dev/goflate-oracle/pgzip

go 1.24

// The versions Packer v1.16.0's go.mod requires.
require (
	github.com/klauspost/compress v1.18.6 // indirect
	github.com/klauspost/pgzip v1.2.6
)
