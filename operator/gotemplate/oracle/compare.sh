#!/usr/bin/env bash
# Compares kiln-gotemplate with Go's text/template on generated templates:
#   operator/gotemplate/oracle/compare.sh [SEED] [COUNT]
# Needs Go (as scripts/packer.sh does). Prints the templates whose output or error differ.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
seed=${1:-1}; count=${2:-20000}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
(cd "$here" && go build -o "$work/oracle" .)
cargo build -q -p kiln-gotemplate --example render_lines
target=${CARGO_TARGET_DIR:-$here/../../../target}
python3 "$here/gen.py" "$seed" "$count" > "$work/cases.jsonl"
"$work/oracle" < "$work/cases.jsonl" > "$work/go.out"
"$target/debug/examples/render_lines" < "$work/cases.jsonl" > "$work/rs.out"
python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
cases = [json.loads(l) for l in open(f"{w}/cases.jsonl")]
go = [json.loads(l) for l in open(f"{w}/go.out")]
rs = [json.loads(l) for l in open(f"{w}/rs.out")]
bad = [(c, g, r) for c, g, r in zip(cases, go, rs) if g != r]
for c, g, r in bad[:20]:
    print(repr(c)); print("  go  ", g); print("  kiln", r)
print(f"{len(cases)} templates, {len(bad)} differ")
sys.exit(1 if bad else 0)
PY
