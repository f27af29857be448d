#!/usr/bin/env bash
# Local tool (not CI): regenerates operator/hcl/src/functions/params.txt, the parameters
# (names and cty types) of Packer's HCL2 functions, from Packer v1.16.0 itself: the program
# operator/hcl/oracle/funcparams/main.go built in a throwaway module with the requirements
# scripts/packer.sh resolved (run that first; offline afterwards).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
KILN_CACHE="${KILN_CACHE:-$HOME/.cache/kiln}"
SRC="$KILN_CACHE/packer/src/1.16.0"
[[ -f "$SRC/go.sum" ]] || { echo "function-params: run scripts/packer.sh first" >&2; exit 1; }
export PATH=/usr/local/go/bin:$PATH GOMODCACHE="$KILN_CACHE/go/mod" GOCACHE="$KILN_CACHE/go/build" \
  GOFLAGS=-mod=mod GOPROXY=off
W="$(mktemp -d)"; trap 'rm -rf "$W"' EXIT
sed 's#^module .*#module kiln.dev/funcparams#' "$SRC/go.mod" > "$W/go.mod"
cp "$SRC/go.sum" "$W/"
cp "$ROOT/operator/hcl/oracle/funcparams/main.go" "$W/"
(cd "$W" && go run .) > "$ROOT/operator/hcl/src/functions/params.txt"
echo "function-params: $(wc -l < "$ROOT/operator/hcl/src/functions/params.txt") functions"
