#!/usr/bin/env bash
# Local tool (not CI): run `hcl2_upgrade` and `fix` of Packer v1.16.0 and of Kiln side by
# side on real legacy JSON templates and count how many agree on exit code, stdout, stderr
# and the files written.
#
# The templates are NOT in the repository (they are other projects' text): collect them
# yourself under $KILN_REALWORLD_JSON (default ~/.cache/kiln/realworld-json), one directory
# per template holding it as `t.json` (e.g. every *.json with a "builders" key of a public
# repository, with `git show`). Without that directory the script says so and exits 0.
#
# Each command runs in a fresh copy of the directory, with no plugin installed and the same
# environment for both tools. Outcomes per command:
#   same        everything equal;
#   order-only  the files equal and stdout equal once its lines are sorted (Packer lists
#               `required variable not set` errors from a Go map, in random order);
#   crash       Packer crashed (exit 2, "PACKER CRASH"), where Kiln reports an error;
#   differ      anything else (kept under $KILN_REALWORLD_JSON_OUT/<command>/<template>).
#
# Usage: scripts/legacy-upgrade-diff.sh [FILTER]   (FILTER: substring of the directory name)
# Env: KILN (kiln binary; default $CARGO_TARGET_DIR/debug/kiln, else target/debug/kiln),
#      PACKER (default ~/.cache/kiln/packer/1.16.0/packer), KILN_REALWORLD_JSON,
#      KILN_REALWORLD_JSON_OUT (default ~/.cache/kiln/realworld-json-diff).
set -uo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TEMPLATES="${KILN_REALWORLD_JSON:-$HOME/.cache/kiln/realworld-json}"
OUT="${KILN_REALWORLD_JSON_OUT:-$HOME/.cache/kiln/realworld-json-diff}"
PACKER="${PACKER:-$HOME/.cache/kiln/packer/1.16.0/packer}"
if [[ -z "${KILN:-}" ]]; then
  KILN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/kiln"
fi
FILTER="${1:-}"

if [[ ! -d "$TEMPLATES" ]]; then
  echo "legacy-upgrade-diff: no templates under $TEMPLATES (collect real legacy JSON templates there, see this script's header); nothing to compare"
  exit 0
fi
[[ -x "$PACKER" ]] || { echo "legacy-upgrade-diff: no Packer at $PACKER (run scripts/packer.sh)" >&2; exit 1; }
[[ -x "$KILN" ]] || { echo "legacy-upgrade-diff: no kiln at $KILN (cargo build -p kiln)" >&2; exit 1; }

rm -rf "$OUT"
mkdir -p "$OUT"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# run TOOL DIR ARGS... : the command in $WORK/<tool>/w, its outputs in $WORK/<tool>/.
run() {
  local tool="$1" dir="$2" name="$3"
  shift 3
  local base="$WORK/$name"
  rm -rf "$base"
  mkdir -p "$base/home/plugins"
  cp -r "$dir" "$base/w"
  (cd "$base/w" && env -i PATH="$PATH" HOME="$base/home" TMPDIR="${TMPDIR:-/tmp}" \
    PACKER_CONFIG_DIR="$base/home" PACKER_PLUGIN_PATH="$base/home/plugins" \
    CHECKPOINT_DISABLE=1 PACKER_NO_COLOR=1 timeout 60 "$tool" "$@" \
    >"$base/out" 2>"$base/err" </dev/null
  echo $? >"$base/code")
  rm -f "$base/w/crash.log"
}

declare -A same order crash differ
for cmd in hcl2_upgrade fix; do
  same[$cmd]=0; order[$cmd]=0; crash[$cmd]=0; differ[$cmd]=0
done

for dir in "$TEMPLATES"/*/; do
  name="$(basename "$dir")"
  [[ -n "$FILTER" && "$name" != *"$FILTER"* ]] && continue
  [[ -f "$dir/t.json" ]] || continue
  for cmd in hcl2_upgrade fix; do
    run "$PACKER" "$dir" packer "$cmd" t.json
    run "$KILN" "$dir" kiln "$cmd" t.json
    p="$WORK/packer" k="$WORK/kiln"
    files_equal=0
    diff -r "$p/w" "$k/w" >/dev/null && files_equal=1
    if [[ $files_equal == 1 ]] && cmp -s "$p/out" "$k/out" && cmp -s "$p/err" "$k/err" \
      && cmp -s "$p/code" "$k/code"; then
      same[$cmd]=$((same[$cmd] + 1))
    elif [[ $files_equal == 1 ]] && cmp -s "$p/code" "$k/code" && cmp -s "$p/err" "$k/err" \
      && cmp -s <(sort "$p/out") <(sort "$k/out"); then
      order[$cmd]=$((order[$cmd] + 1))
    elif [[ "$(cat "$p/code")" == 2 ]] && grep -q "PACKER CRASH" "$p/out"; then
      crash[$cmd]=$((crash[$cmd] + 1))
    else
      differ[$cmd]=$((differ[$cmd] + 1))
      mkdir -p "$OUT/$cmd/$name"
      cp -r "$p" "$OUT/$cmd/$name/packer"
      cp -r "$k" "$OUT/$cmd/$name/kiln"
    fi
  done
done

for cmd in hcl2_upgrade fix; do
  echo "$cmd: ${same[$cmd]} same, ${order[$cmd]} order-only, ${crash[$cmd]} Packer crashes, ${differ[$cmd]} differ"
done
[[ "${differ[hcl2_upgrade]}" == 0 && "${differ[fix]}" == 0 ]]
