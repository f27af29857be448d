#!/usr/bin/env bash
# Local tool (not CI): random `build` templates of Packer's core components
# (scripts/build-fuzz-gen.py) through the differential harness (operator/tests/differential.rs,
# its normalisation and comparison of exit code, output and written files), Packer 1.16.0
# against Kiln.
# Usage: scripts/build-fuzz.sh [SEED] [COUNT] [json] [wild] [validate|inspect]   (defaults 11 100;
# `json`: legacy JSON templates; `wild`: random extra component options, valid or not;
# `validate`/`inspect`: that command instead of `build`)
# Cases go to ~/.cache/kiln/build-fuzz/SEED[MODES]/cases, both outcomes of each to .../dump, the
# differences to .../report.txt.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SEED="${1:-11}" COUNT="${2:-100}"
MODES=("${@:3}")
OUT="$HOME/.cache/kiln/build-fuzz/$SEED$(printf '%s' "${MODES[@]}")"
rm -rf "$OUT"; mkdir -p "$OUT"
python3 "$ROOT/scripts/build-fuzz-gen.py" "$SEED" "$COUNT" "$OUT/cases" "${MODES[@]}"
cd "$ROOT/operator"
KILN_DIFF_CASES="$OUT/cases" KILN_DIFF_DUMP="$OUT/dump" \
  cargo test -q -p kiln --test differential > "$OUT/report.txt" 2>&1
grep -a -E '^differential:|^test result' "$OUT/report.txt"
echo "build-fuzz: report $OUT/report.txt, outcomes $OUT/dump"
