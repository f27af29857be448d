module goyamlref

go 1.25.0

require github.com/zclconf/go-cty v1.18.1

require (
	github.com/apparentlymart/go-textseg/v13 v13.0.0 // indirect
	github.com/google/go-cmp v0.7.0 // indirect
	golang.org/x/text v0.40.0 // indirect
)

replace github.com/zclconf/go-cty => github.com/nywilken/go-cty v1.13.3
