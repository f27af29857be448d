module kiln.dev/goflate-oracle

go 1.22
