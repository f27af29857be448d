#!/usr/bin/env bash
# Local tool (not CI): each of console-fuzz-gen.py's random expressions as a local of a small
# template (console-fuzz.sh's variables, a null source and a build) through `packer validate`
# and `kiln validate`, compared on exit code and output: the file, line, column and snippet
# of every error, which `console` does not show.
# Usage: scripts/validate-fuzz.sh [SEED] [COUNT] [DEPTH]   (defaults 11 300 2)
# Env: KILN (default $CARGO_TARGET_DIR/debug/kiln), PACKER.
# Differences go to ~/.cache/kiln/validate-fuzz/diffs.txt.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SEED="${1:-11}" COUNT="${2:-300}" DEPTH="${3:-2}"
PACKER="${PACKER:-$HOME/.cache/kiln/packer/1.16.0/packer}"
KILN="${KILN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/kiln}"
[[ -x "$PACKER" ]] || { echo "validate-fuzz: no Packer at $PACKER (run scripts/packer.sh)" >&2; exit 1; }
[[ -x "$KILN" ]] || { echo "validate-fuzz: no kiln at $KILN (cargo build -p kiln)" >&2; exit 1; }
OUT="$HOME/.cache/kiln/validate-fuzz"; mkdir -p "$OUT"; : > "$OUT/diffs.txt"
W="$(mktemp -d)"; trap 'rm -rf "$W"' EXIT
# The variables console-fuzz.sh declares (the expressions read them).
sed -n '/^cat > "\$W\/t.pkr.hcl" <<.HCL.$/,/^HCL$/p' "$ROOT/scripts/console-fuzz.sh" | sed '1d;$d' > "$W/head.hcl"
python3 "$ROOT/scripts/console-fuzz-gen.py" "$SEED" "$COUNT" "$DEPTH" > "$W/exprs"
mkdir "$W/t"
n=0 d=0
while IFS= read -r ex; do
  n=$((n+1))
  { cat "$W/head.hcl"
    printf 'locals {\n  x = %s\n}\nsource "null" "a" {\n  communicator = "none"\n}\nbuild {\n  sources = ["source.null.a"]\n}\n' "$ex"
  } > "$W/t/t.pkr.hcl"
  (cd "$W/t" && PACKER_NO_COLOR=1 "$PACKER" validate t.pkr.hcl > ../p 2>&1 < /dev/null; echo "exit $?" >> ../p)
  (cd "$W/t" && PACKER_NO_COLOR=1 "$KILN" validate t.pkr.hcl > ../k 2>&1 < /dev/null; echo "exit $?" >> ../k)
  if ! cmp -s "$W/p" "$W/k"; then
    d=$((d+1)); { echo "=== $ex"; diff "$W/p" "$W/k" | head -30; } >> "$OUT/diffs.txt"
  fi
done < "$W/exprs"
echo "validate-fuzz: $((n-d)) / $n expressions agree (seed $SEED, depth $DEPTH); differences: $OUT/diffs.txt"
