module sbomgo

go 1.24

require (
	github.com/CycloneDX/cyclonedx-go v0.11.0
	github.com/spdx/tools-golang v0.5.7
)

require github.com/anchore/go-struct-converter v0.1.0 // indirect
