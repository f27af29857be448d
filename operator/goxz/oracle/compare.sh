#!/usr/bin/env bash
# Compares kiln-goxz with ulikunitz/xz v0.5.15 (the Go oracle, oracle/main.go) on every
# generated input, checks that xz-utils decompresses the output, and prints the lines of
# tests/vectors.rs's table. Needs Go, the module in GOMODCACHE and xz; runs offline.
#   usage: oracle/compare.sh [NAME...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
crate=$(dirname "$here")
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/kiln/target-goxz}
export PATH=/usr/local/go/bin:$PATH GOMODCACHE=${GOMODCACHE:-$HOME/.cache/kiln/go/mod} GOFLAGS=-mod=mod GOPROXY=off
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$here" && go build -o "$work/xzref" .)
(cd "$crate" && cargo build -q --release --example goxz)
goxz=$CARGO_TARGET_DIR/release/examples/goxz
names=("$@")
[ ${#names[@]} -eq 0 ] && mapfile -t names < <("$goxz" names)
fail=0
for n in "${names[@]}"; do
  "$goxz" gen "$n" > "$work/in"
  "$work/xzref" < "$work/in" > "$work/go.xz"
  "$goxz" < "$work/in" > "$work/rs.xz"
  gs=$(sha256sum < "$work/go.xz" | cut -c1-64)
  rs=$(sha256sum < "$work/rs.xz" | cut -c1-64)
  if [ "$gs" != "$rs" ]; then
    echo "MISMATCH $n: go $gs ($(stat -c%s "$work/go.xz") bytes) rust $rs ($(stat -c%s "$work/rs.xz") bytes)" >&2
    cmp "$work/go.xz" "$work/rs.xz" | head -1 >&2 || true
    fail=1
    continue
  fi
  if ! xz -dc < "$work/rs.xz" | cmp -s - "$work/in"; then
    echo "ROUNDTRIP FAILED $n" >&2
    fail=1
    continue
  fi
  printf '    ("%s", %d, %d, "%s"),\n' "$n" "$(stat -c%s "$work/in")" "$(stat -c%s "$work/go.xz")" "$gs"
done
exit $fail
