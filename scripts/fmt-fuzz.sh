#!/usr/bin/env bash
# Local tool (not CI): mutated copies of the real-world templates (see realworld-diff.sh;
# ~/.cache/kiln/realworld) through `packer fmt -` and `kiln fmt -`, compared on exit code and
# output. Mutations: scripts/fmt-fuzz-mutate.py (whitespace, indentation, line breaks,
# comments; strings and heredocs untouched).
# Usage: scripts/fmt-fuzz.sh [FROM_SEED] [TO_SEED] [plain]   (defaults 1 1)
#   plain: whitespace mutations only (no line breaks or comments).
# Env: KILN (default $CARGO_TARGET_DIR/debug/kiln), PACKER, KILN_REALWORLD.
# Differences go to ~/.cache/kiln/fmt-fuzz/diffs.txt, their inputs beside it.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PACKER="${PACKER:-$HOME/.cache/kiln/packer/1.16.0/packer}"
KILN="${KILN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/kiln}"
REALWORLD="${KILN_REALWORLD:-$HOME/.cache/kiln/realworld}"
[[ -x "$PACKER" ]] || { echo "fmt-fuzz: no Packer at $PACKER (run scripts/packer.sh)" >&2; exit 1; }
[[ -x "$KILN" ]] || { echo "fmt-fuzz: no kiln at $KILN (cargo build -p kiln)" >&2; exit 1; }
[[ -d "$REALWORLD" ]] || { echo "fmt-fuzz: no templates under $REALWORLD (see realworld-diff.sh)"; exit 0; }
OUT="$HOME/.cache/kiln/fmt-fuzz"; rm -rf "$OUT"; mkdir -p "$OUT"; : > "$OUT/diffs.txt"
W="$(mktemp -d)"; trap 'rm -rf "$W"' EXIT
n=0 d=0
for seed in $(seq "${1:-1}" "${2:-1}"); do
  while IFS= read -r f; do
    python3 "$ROOT/scripts/fmt-fuzz-mutate.py" "$f" "$seed" ${3:-} > "$W/in.pkr.hcl"
    "$PACKER" fmt - < "$W/in.pkr.hcl" > "$W/p" 2>&1; pc=$?
    "$KILN" fmt - < "$W/in.pkr.hcl" > "$W/k" 2>&1; kc=$?
    n=$((n+1))
    if [[ $pc != "$kc" ]] || ! cmp -s "$W/p" "$W/k"; then
      d=$((d+1)); { echo "=== $f seed $seed (exit packer $pc, kiln $kc): input $OUT/in-$d.pkr.hcl"; diff "$W/p" "$W/k" | head -20; } >> "$OUT/diffs.txt"
      cp "$W/in.pkr.hcl" "$OUT/in-$d.pkr.hcl"
    fi
  done < <(find "$REALWORLD" -name '*.pkr.hcl' | sort)
done
echo "fmt-fuzz: $((n-d)) / $n mutated files agree; differences: $OUT/diffs.txt"
