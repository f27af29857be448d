#!/usr/bin/env bash
# Local tool (not CI): run Packer v1.16.0 and Kiln side by side on Packer's own test
# fixtures (command/test-fixtures and hcl2template/testdata of the Packer module, fetched
# into the Go module cache with `go mod download`) and report how many command runs agree on
# exit code, stdout and stderr.
#
# For every template file (*.pkr.hcl, *.pkr.json, legacy *.json; var files skipped):
#   validate FILE ; validate -syntax-only FILE ; inspect FILE ; build FILE ;
#   fmt -check -diff FILE (HCL files)
# and for every directory holding HCL2 templates: the first four on `.`.
# Each run happens in a fresh copy of the fixture's directory, with no plugin installed and
# the same environment for both tools. Output is normalised for what is run-specific
# (durations, temporary script names, times, UUIDs) and compared as sorted lines (parallel
# builds interleave). Packer runs twice: where its two runs differ (Go map order) the run is
# counted apart and not compared.
#
# Usage: scripts/packer-fixtures-diff.sh [FILTER]   (FILTER: substring of the fixture path)
# Env: KILN (kiln binary; default $CARGO_TARGET_DIR/debug/kiln, else target/debug/kiln),
#      PACKER (default ~/.cache/kiln/packer/1.16.0/packer), KILN_FIXTURES_OUT (where the
#      differing runs are written; default ~/.cache/kiln/packer-fixtures-diff),
#      KILN_FIXTURES_VERBOSE=1 (print each differing run).
set -uo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
KILN_CACHE="${KILN_CACHE:-$HOME/.cache/kiln}"
OUT="${KILN_FIXTURES_OUT:-$KILN_CACHE/packer-fixtures-diff}"
PACKER="${PACKER:-$KILN_CACHE/packer/1.16.0/packer}"
if [[ -z "${KILN:-}" ]]; then
  KILN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/kiln"
fi
FILTER="${1:-}"

[[ -x "$PACKER" ]] || { echo "packer-fixtures-diff: no Packer at $PACKER (run scripts/packer.sh)" >&2; exit 1; }
[[ -x "$KILN" ]] || { echo "packer-fixtures-diff: no kiln at $KILN (cargo build -p kiln)" >&2; exit 1; }

MOD="$(cd /tmp && GOMODCACHE="$KILN_CACHE/go/mod" GOFLAGS=-mod=mod GOTOOLCHAIN=auto \
  go mod download -json github.com/hashicorp/packer@v1.16.0 | sed -n 's/.*"Dir": "\(.*\)",/\1/p')"
[[ -d "$MOD/command/test-fixtures" ]] || { echo "packer-fixtures-diff: Packer's module not found ($MOD)" >&2; exit 1; }

rm -rf "$OUT"
mkdir -p "$OUT"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

norm() {
  sed -E 's/(finished after|completed after|errored after|finished in) .*/\1 T/;
    s/packer-shell[0-9]+/packer-shellN/g;
    s/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/TIME/g;
    s/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/UUID/g;
    s/\b1[0-9]{9}\b/UNIX/g' | sort
}

# run TOOL DIR ARGS... -> $WORK/{c,o,e}; DIR is copied fresh first.
run() {
  local tool="$1" dir="$2"
  shift 2
  rm -rf "$WORK/w" "$WORK/home"
  mkdir -p "$WORK/home/plugins"
  cp -r "$dir" "$WORK/w"
  (
    cd "$WORK/w" || exit
    env -i PATH="$PATH" HOME="$WORK/home" TMPDIR="${TMPDIR:-/tmp}" \
      PACKER_CONFIG_DIR="$WORK/home" PACKER_PLUGIN_PATH="$WORK/home/plugins" \
      CHECKPOINT_DISABLE=1 PACKER_NO_COLOR=1 \
      PACKER_RUN_UUID=11111111-2222-3333-4444-555555555555 \
      timeout 60 "$tool" "$@" </dev/null >"$WORK/o" 2>"$WORK/e"
    echo $? >"$WORK/c"
  )
}

total=0 agree=0 varying=0
compare() {
  local unit="$1" dir="$2"
  shift 2
  run "$PACKER" "$dir" "$@"
  local pc po pe
  pc="$(cat "$WORK/c")" po="$(norm <"$WORK/o")" pe="$(norm <"$WORK/e")"
  run "$PACKER" "$dir" "$@"
  if [[ "$pc" != "$(cat "$WORK/c")" || "$po" != "$(norm <"$WORK/o")" || "$pe" != "$(norm <"$WORK/e")" ]]; then
    varying=$((varying + 1))
    return
  fi
  run "$KILN" "$dir" "$@"
  local kc ko ke
  kc="$(cat "$WORK/c")" ko="$(norm <"$WORK/o")" ke="$(norm <"$WORK/e")"
  total=$((total + 1))
  if [[ "$pc" == "$kc" && "$po" == "$ko" && "$pe" == "$ke" ]]; then
    agree=$((agree + 1))
    return
  fi
  local f="$OUT/$(printf '%s %s' "$unit" "$*" | tr '/ ' '__').diff"
  {
    echo "# $unit: $*"
    echo "# exit: packer $pc, kiln $kc"
    echo "## stdout, sorted (- packer, + kiln)"
    diff <(printf '%s\n' "$po") <(printf '%s\n' "$ko") || true
    echo "## stderr, sorted (- packer, + kiln)"
    diff <(printf '%s\n' "$pe") <(printf '%s\n' "$ke") || true
  } >"$f"
  [[ "${KILN_FIXTURES_VERBOSE:-}" == 1 ]] && echo "differs: $unit $*"
}

cd "$MOD" || exit 1
while IFS= read -r -d '' f; do
  rel="${f#./}"
  [[ -n "$FILTER" && "$rel" != *"$FILTER"* ]] && continue
  case "$rel" in *pkrvars* | *.auto.* | */vars/* | *varfile*) continue ;; esac
  dir="$(dirname "$rel")"
  base="$(basename "$rel")"
  for c in validate "validate -syntax-only" inspect build; do
    # shellcheck disable=SC2086
    compare "$rel" "$dir" $c "$base"
  done
  [[ "$base" == *.pkr.hcl ]] && compare "$rel" "$dir" fmt -check -diff "$base"
done < <(find ./command/test-fixtures ./hcl2template/testdata -type f \
  \( -name '*.pkr.hcl' -o -name '*.pkr.json' -o -name '*.json' \) -print0 | sort -z)

while IFS= read -r dir; do
  rel="${dir#./}/"
  [[ -n "$FILTER" && "$rel" != *"$FILTER"* ]] && continue
  for c in validate "validate -syntax-only" inspect build; do
    # shellcheck disable=SC2086
    compare "$rel" "$dir" $c .
  done
done < <(find ./command/test-fixtures ./hcl2template/testdata -type f \
  \( -name '*.pkr.hcl' -o -name '*.pkr.json' \) -printf '%h\n' | sort -u)

echo "packer-fixtures-diff: Packer's fixtures in $MOD (Packer $("$PACKER" version 2>/dev/null | head -1), $KILN)"
printf '  %d / %d command runs agree (%d more where Packer itself varies between runs)\n' \
  "$agree" "$total" "$varying"
echo "differences: $OUT/*.diff"
