#!/bin/sh
# Builds the Go oracle (dsnet/compress bzip2 writer, from the local module
# cache) and compares the Rust port with it byte for byte.
# Usage: scripts/compare-with-go.sh [--write-vectors]
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
export GOMODCACHE="${GOMODCACHE:-$HOME/.cache/kiln/go/mod}"
export GOFLAGS="${GOFLAGS:--mod=mod}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kiln/target}"
oracle="$CARGO_TARGET_DIR/gobzip2-oracle"
mkdir -p "$CARGO_TARGET_DIR"
(cd "$here/oracle" && go build -o "$oracle" .)
if [ "${1:-}" = "--write-vectors" ]; then
    export GOBZIP2_WRITE_VECTORS=1
fi
cd "$here"
GOBZIP2_ORACLE="$oracle" cargo test -p kiln-gobzip2 --test oracle go_oracle -- --ignored --nocapture
