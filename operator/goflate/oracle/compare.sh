#!/usr/bin/env bash
# Compares kiln-goflate's output with Go's on generated inputs:
#   operator/goflate/oracle/compare.sh [SEED] [COUNT] [gzip|pgzip]
# gzip: Go's compress/gzip at every level; pgzip: klauspost/pgzip at levels -2 to 9
# (the module versions Packer v1.16.0 requires, from the Go module proxy).
# Needs Go (as scripts/packer.sh does). Prints the inputs whose output differ.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
seed=${1:-1}; count=${2:-2000}; mode=${3:-gzip}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
case $mode in
  gzip) dir=$here; example=oracle_lines ;;
  pgzip) dir=$here/pgzip; example=pgzip_lines ;;
  *) echo "mode: gzip or pgzip" >&2; exit 2 ;;
esac
(cd "$dir" && go build -o "$work/oracle" .)
cargo build -q --release -p kiln-goflate --example "$example"
target=${CARGO_TARGET_DIR:-$here/../../../target}
python3 "$here/gen.py" "$seed" "$count" "$mode" > "$work/cases.txt"
"$work/oracle" < "$work/cases.txt" > "$work/go.out"
"$target/release/examples/$example" < "$work/cases.txt" > "$work/rs.out"
python3 - "$work" <<'PY'
import sys
w = sys.argv[1]
cases = open(f"{w}/cases.txt").read().splitlines()
go = open(f"{w}/go.out").read().splitlines()
rs = open(f"{w}/rs.out").read().splitlines()
assert len(cases) == len(go) == len(rs), (len(cases), len(go), len(rs))
bad = [(c, g, r) for c, g, r in zip(cases, go, rs) if g != r]
for c, g, r in bad[:10]:
    f = c.split(" ")
    data = bytes.fromhex(f[3]) if len(f) > 3 else b""
    print(f"{' '.join(f[:3])} len {len(data)}: {data[:60]!r}")
    i = next((i for i in range(min(len(g), len(r))) if g[i] != r[i]), min(len(g), len(r)))
    print(f"  first difference at output byte {i // 2}; go {len(g) // 2} bytes, kiln {len(r) // 2} bytes")
print(f"{len(cases)} inputs, {len(bad)} differ")
sys.exit(1 if bad else 0)
PY
