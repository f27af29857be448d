#!/usr/bin/env bash
# Regenerates the expected output of Kiln's fmt corpus (operator/hcl/tests/fmt/) with the real
# `packer fmt` of Packer 1.16.0 built from source: for each `<case>.in`, `packer fmt -` on it
# writes `<case>.golden` (Packer's stdout, the formatted text) when Packer formats it, or
# `<case>.error` (Packer's error output) when Packer refuses it. The test
# `cargo test -p kiln-hcl --test fmt_corpus` compares Kiln's output with these byte for byte.
#
# Packer: $PACKER if set, else what scripts/packer.sh builds (or reuses) into
# ~/.cache/kiln/packer/1.16.0/packer.
set -euo pipefail
cd "$(dirname "$0")/.."
KILN_CACHE="${KILN_CACHE:-$HOME/.cache/kiln}"
if [ -z "${PACKER:-}" ]; then
  if [ -x scripts/packer.sh ]; then
    PACKER="$(scripts/packer.sh)"
  else
    PACKER="$KILN_CACHE/packer/1.16.0/packer"
  fi
fi
[ -x "$PACKER" ] || { echo "fmt-golden.sh: no Packer at $PACKER; run scripts/packer.sh (or set PACKER)" >&2; exit 1; }
"$PACKER" version | grep -q '^Packer v1.16.0' || { echo "fmt-golden.sh: $PACKER is not Packer v1.16.0" >&2; exit 1; }

dir=operator/hcl/tests/fmt
formatted=0 refused=0
for in in "$dir"/*.in; do
  case="${in%.in}"
  rm -f "$case.golden" "$case.error"
  if "$PACKER" fmt - < "$in" > "$case.out"; then
    mv "$case.out" "$case.golden"
    formatted=$((formatted + 1))
  else
    mv "$case.out" "$case.error"
    refused=$((refused + 1))
  fi
done
echo "fmt-golden.sh: $formatted formatted, $refused refused by $("$PACKER" version)"
