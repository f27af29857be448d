module kiln.dev/gotemplate-oracle

go 1.22
