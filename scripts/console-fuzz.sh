#!/usr/bin/env bash
# Local tool (not CI): random expressions through `packer console` and `kiln console`, one
# process each, compared on exit code and output (stdout and stderr together).
# Usage: scripts/console-fuzz.sh [SEED] [COUNT] [DEPTH]   (defaults 11 600 2)
# Env: KILN (default $CARGO_TARGET_DIR/debug/kiln), PACKER (default ~/.cache/kiln/packer/1.16.0/packer)
# The differing expressions and their diffs go to ~/.cache/kiln/console-fuzz/diffs.txt.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SEED="${1:-11}" COUNT="${2:-600}" DEPTH="${3:-2}"
PACKER="${PACKER:-$HOME/.cache/kiln/packer/1.16.0/packer}"
KILN="${KILN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/kiln}"
[[ -x "$PACKER" ]] || { echo "console-fuzz: no Packer at $PACKER (run scripts/packer.sh)" >&2; exit 1; }
[[ -x "$KILN" ]] || { echo "console-fuzz: no kiln at $KILN (cargo build -p kiln)" >&2; exit 1; }
OUT="$HOME/.cache/kiln/console-fuzz"; mkdir -p "$OUT"; : > "$OUT/diffs.txt"
W="$(mktemp -d)"; trap 'rm -rf "$W"' EXIT
cat > "$W/t.pkr.hcl" <<'HCL'
variable "s" {
  default = "hello"
}
variable "n" {
  default = 42
}
variable "l" {
  type    = list(string)
  default = ["a", "b"]
}
variable "m" {
  type    = map(number)
  default = { a = 1, b = 2 }
}
variable "o" {
  default = { a = "x", b = [1, 2] }
}
locals {
  t = ["a", 1, true]
}
HCL
python3 "$ROOT/scripts/console-fuzz-gen.py" "$SEED" "$COUNT" "$DEPTH" > "$W/exprs"
n=0 d=0
cd "$W"
while IFS= read -r ex; do
  n=$((n+1))
  printf '%s\n' "$ex" > one
  PACKER_NO_COLOR=1 "$PACKER" console t.pkr.hcl < one > p 2>&1; pc=$?
  PACKER_NO_COLOR=1 "$KILN" console t.pkr.hcl < one > k 2>&1; kc=$?
  if [[ $pc != "$kc" ]] || ! cmp -s p k; then
    d=$((d+1)); { echo "=== $ex (exit packer $pc, kiln $kc)"; diff p k; } >> "$OUT/diffs.txt"
  fi
done < exprs
echo "console-fuzz: $((n-d)) / $n expressions agree (seed $SEED, depth $DEPTH); differences: $OUT/diffs.txt"
