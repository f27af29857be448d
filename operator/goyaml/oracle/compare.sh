#!/usr/bin/env bash
# Compares kiln-goyaml's events and errors with go-cty-yaml v1.0.1's parser (the Go oracle)
# on generated corpora, offline. The oracle module is assembled in a temporary directory:
# main.go, go.mod and go.sum from here, and package cyaml = go-cty-yaml's own sources from
# GOMODCACHE plus export.go.txt (its event/error printer).
#   usage: oracle/compare.sh [COUNT [SEED...]]     (default: 4000 documents, seeds 1 to 6)
#   VECTORS=1 oracle/compare.sh ...                 also rewrites tests/vectors.txt
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
crate=$(dirname "$here")
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/kiln/target-goyaml}
export PATH=/usr/local/go/bin:$PATH GOMODCACHE=${GOMODCACHE:-$HOME/.cache/kiln/go/mod} GOFLAGS=-mod=mod GOPROXY=off
count=${1:-4000}
shift || true
seeds=("$@")
[ ${#seeds[@]} -eq 0 ] && seeds=(1 2 3 4 5 6)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/ref/cyaml"
cp "$here/main.go" "$here/go.mod" "$here/go.sum" "$work/ref/"
src=$GOMODCACHE/github.com/zclconf/go-cty-yaml@v1.0.1
for f in "$src"/*.go; do case $f in *_test.go) ;; *) cp "$f" "$work/ref/cyaml/" ;; esac; done
cp "$here/export.go.txt" "$work/ref/cyaml/export.go"
chmod -R u+w "$work/ref"
(cd "$work/ref" && go build -o "$work/goyamlref" .)
(cd "$crate" && cargo build -q --release --example summary)
summary=$CARGO_TARGET_DIR/release/examples/summary
fail=0
python3 "$here/hand.py" > "$work/hand.hex"
"$work/goyamlref" ev < "$work/hand.hex" > "$work/hand.go"
"$summary" < "$work/hand.hex" > "$work/hand.rs"
if cmp -s "$work/hand.go" "$work/hand.rs"; then
  echo "hand.py: $(wc -l < "$work/hand.hex") documents, all events and errors equal"
else
  echo "hand.py: DIFFERENT" >&2
  diff "$work/hand.go" "$work/hand.rs" | head -20 >&2
  fail=1
fi
pairs=("all:$work/hand.hex" "$work/hand.go")
for s in "${seeds[@]}"; do
  flag=""; [ $((s % 2)) -eq 0 ] && flag=--valid-utf8
  python3 "$here/gen.py" "$s" "$count" $flag > "$work/c$s.hex"
  "$work/goyamlref" ev < "$work/c$s.hex" > "$work/c$s.go"
  "$summary" < "$work/c$s.hex" > "$work/c$s.rs"
  if cmp -s "$work/c$s.go" "$work/c$s.rs"; then
    echo "seed $s: $count documents, $(grep -c '^OK' "$work/c$s.go") parsed, all events and errors equal"
  else
    echo "seed $s: DIFFERENT" >&2
    diff "$work/c$s.go" "$work/c$s.rs" | head -20 >&2
    fail=1
  fi
  pairs+=("$work/c$s.hex" "$work/c$s.go")
done
if [ "${VECTORS:-}" = 1 ] && [ $fail = 0 ]; then
  python3 "$here/vectors.py" 8 300 "${pairs[@]}" > "$crate/tests/vectors.txt"
  echo "rewrote tests/vectors.txt: $(grep -c '^IN ' "$crate/tests/vectors.txt") vectors"
fi
exit $fail
