module kiln/gobzip2-oracle

go 1.21

require github.com/dsnet/compress v0.0.2-0.20230904184137-39efe44ab707
