#!/usr/bin/env bash
# Local tool (not CI): random `validate`/`inspect` templates of the docker and qemu builders
# (scripts/plugin-fuzz-gen.py) through the differential harness (operator/tests/differential.rs),
# Packer 1.16.0 with packer-plugin-docker v1.1.2 and packer-plugin-qemu v1.1.7 against Kiln.
# Usage: scripts/plugin-fuzz.sh [SEED] [COUNT] [json] [inspect] [docker|qemu]   (defaults 1 100)
# Cases go to ~/.cache/kiln/plugin-fuzz/SEED[MODES]/cases, both outcomes of each to .../dump, the
# differences to .../report.txt.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SEED="${1:-1}" COUNT="${2:-100}"
MODES=("${@:3}")
OUT="$HOME/.cache/kiln/plugin-fuzz/$SEED$(printf '%s' "${MODES[@]}")"
rm -rf "$OUT"; mkdir -p "$OUT"
"$ROOT/scripts/docker-plugin.sh" > /dev/null && "$ROOT/scripts/qemu-plugin.sh" > /dev/null || exit 1
python3 "$ROOT/scripts/plugin-fuzz-gen.py" "$SEED" "$COUNT" "$OUT/cases" "${MODES[@]}"
cd "$ROOT/operator"
KILN_DIFF_CASES="$OUT/cases" KILN_DIFF_DUMP="$OUT/dump" \
  cargo test -q -p kiln --test differential > "$OUT/report.txt" 2>&1
grep -a -E '^differential:|^test result' "$OUT/report.txt"
echo "plugin-fuzz: report $OUT/report.txt, outcomes $OUT/dump"
