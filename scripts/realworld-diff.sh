#!/usr/bin/env bash
# Local tool (not CI): run Packer v1.16.0 and Kiln side by side on real-world templates and
# report, per command, how many agree on exit code, stdout and stderr.
#
# The templates are NOT in the repository (they are other projects' text): collect them
# yourself under $KILN_REALWORLD (default ~/.cache/kiln/realworld/<owner+repo>/<path>), e.g.
# every *.pkr.hcl of a public repository with `git show`. Without that directory the script
# says so and exits 0.
#
# Units and commands (each run in a fresh copy of the template's directory, with no plugin
# installed, the same environment for both tools).
# Standard input is a pipe (as `echo var | packer console`: Packer's piped mode, which prints
# the last result only) except for console-lines, whose input is a regular file (Packer's
# line-by-line mode: every result is printed).
#   every file:        fmt -check -diff FILE ; fmt - < FILE ; validate -syntax-only FILE ;
#                      inspect FILE ; console FILE <<< var ;
#                      console FILE < (a few expressions, the unit's first variable and local)
#   every directory
#   of several files:  validate -syntax-only . ; inspect . ; console . (both inputs)
# A "unit" agrees when all its commands agree. Packer runs twice: where its two outputs differ
# (Go map order) the command is counted apart and not compared.
#
# Usage: scripts/realworld-diff.sh [FILTER]   (FILTER: substring of the unit path)
# Env: KILN (kiln binary; default $CARGO_TARGET_DIR/debug/kiln, else target/debug/kiln),
#      PACKER (default ~/.cache/kiln/packer/1.16.0/packer), KILN_REALWORLD,
#      KILN_REALWORLD_OUT (where differing outputs are written; default
#      ~/.cache/kiln/realworld-diff), KILN_REALWORLD_VERBOSE=1 (print each differing unit).
set -uo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
REALWORLD="${KILN_REALWORLD:-$HOME/.cache/kiln/realworld}"
OUT="${KILN_REALWORLD_OUT:-$HOME/.cache/kiln/realworld-diff}"
PACKER="${PACKER:-$HOME/.cache/kiln/packer/1.16.0/packer}"
if [[ -z "${KILN:-}" ]]; then
  KILN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/kiln"
fi
FILTER="${1:-}"

if [[ ! -d "$REALWORLD" ]]; then
  echo "realworld-diff: no templates under $REALWORLD (collect real *.pkr.hcl files there, see this script's header); nothing to compare"
  exit 0
fi
[[ -x "$PACKER" ]] || { echo "realworld-diff: no Packer at $PACKER (run scripts/packer.sh)" >&2; exit 1; }
[[ -x "$KILN" ]] || { echo "realworld-diff: no kiln at $KILN (cargo build -p kiln)" >&2; exit 1; }

rm -rf "$OUT"
mkdir -p "$OUT"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# run TOOL DIR STDIN ARGS... -> $WORK/res.{code,out,err}; DIR is copied fresh first.
run() {
  local tool="$1" dir="$2" stdin="$3"
  shift 3
  rm -rf "$WORK/w" "$WORK/home"
  mkdir -p "$WORK/home/plugins"
  cp -r "$dir" "$WORK/w"
  local envs=(env -i PATH="$PATH" HOME="$WORK/home" TMPDIR="${TMPDIR:-/tmp}"
    PACKER_CONFIG_DIR="$WORK/home" PACKER_PLUGIN_PATH="$WORK/home/plugins"
    CHECKPOINT_DISABLE=1 PACKER_NO_COLOR=1 timeout 30 "$tool" "$@")
  (
    cd "$WORK/w" || exit
    if [[ -n "${FILE_STDIN:-}" ]]; then
      "${envs[@]}" <"$stdin" >"$WORK/res.out" 2>"$WORK/res.err"
    else
      "${envs[@]}" < <(cat "$stdin") >"$WORK/res.out" 2>"$WORK/res.err"
    fi
    echo $? >"$WORK/res.code"
  )
}

declare -A AGREE TOTAL UNSTABLE UNSTABLE_MATCH
declare -A TEMPLATE_OK
CMDS=()

# compare NAME UNIT DIR STDIN ARGS...
compare() {
  local name="$1" unit="$2" dir="$3" stdin="$4"
  shift 4
  [[ -v TOTAL[$name] ]] || { CMDS+=("$name"); TOTAL[$name]=0; AGREE[$name]=0; }
  run "$PACKER" "$dir" "$stdin" "$@"
  local pc pout perr
  pc="$(cat "$WORK/res.code")"
  pout="$(cat "$WORK/res.out")"
  perr="$(cat "$WORK/res.err")"
  # Packer is not always deterministic (Go map order: which locals its graph walk evaluates
  # before the first error, the order of some error lists): a unit whose Packer output
  # changes between two runs is counted apart, not compared.
  run "$PACKER" "$dir" "$stdin" "$@"
  local pc2 pout2 perr2
  pc2="$(cat "$WORK/res.code")"
  pout2="$(cat "$WORK/res.out")"
  perr2="$(cat "$WORK/res.err")"
  if [[ "$pc" != "$pc2" || "$pout" != "$pout2" || "$perr" != "$perr2" ]]; then
    UNSTABLE[$name]=$((${UNSTABLE[$name]:-0} + 1))
    # Counted apart: whether Kiln shows one of the two outcomes Packer showed.
    run "$KILN" "$dir" "$stdin" "$@"
    local kc kout kerr
    kc="$(cat "$WORK/res.code")"
    kout="$(cat "$WORK/res.out")"
    kerr="$(cat "$WORK/res.err")"
    if [[ ("$kc" == "$pc" && "$kout" == "$pout" && "$kerr" == "$perr") ||
      ("$kc" == "$pc2" && "$kout" == "$pout2" && "$kerr" == "$perr2") ]]; then
      UNSTABLE_MATCH[$name]=$((${UNSTABLE_MATCH[$name]:-0} + 1))
    fi
    return
  fi
  run "$KILN" "$dir" "$stdin" "$@"
  local kc kout kerr
  kc="$(cat "$WORK/res.code")"
  kout="$(cat "$WORK/res.out")"
  kerr="$(cat "$WORK/res.err")"
  TOTAL[$name]=$((TOTAL[$name] + 1))
  [[ -v TEMPLATE_OK[$unit] ]] || TEMPLATE_OK[$unit]=1
  if [[ "$pc" == "$kc" && "$pout" == "$kout" && "$perr" == "$kerr" ]]; then
    AGREE[$name]=$((AGREE[$name] + 1))
    return
  fi
  TEMPLATE_OK[$unit]=0
  local f="$OUT/$name/${unit//\//_}"
  mkdir -p "$OUT/$name"
  {
    echo "# $unit: $*"
    echo "# exit: packer $pc, kiln $kc"
    echo "## stdout (- packer, + kiln)"
    diff <(printf '%s\n' "$pout") <(printf '%s\n' "$kout") || true
    echo "## stderr (- packer, + kiln)"
    diff <(printf '%s\n' "$perr") <(printf '%s\n' "$kerr") || true
  } >"$f.diff"
  [[ "${KILN_REALWORLD_VERBOSE:-}" == 1 ]] && echo "differs: $name $unit"
}

# Expressions for console: generic ones, then the first variable and local of the unit.
console_input() {
  local files=("$@") v l
  {
    echo 'var'
    echo '1 + 2'
    echo 'upper("kiln")'
    v="$(grep -ho '^variable  *"[^"]*"' "${files[@]}" 2>/dev/null | head -1 | sed 's/.*"\(.*\)"/\1/')"
    [[ -n "$v" ]] && echo "var.$v"
    l="$(awk '/^locals *\{/ {inl=1; next} inl && /^  [A-Za-z_][A-Za-z0-9_-]* *=/ {sub(/^  /, ""); sub(/ *=.*/, ""); print; exit} /^\}/ {inl=0}' "${files[@]}" 2>/dev/null | head -1)"
    [[ -n "$l" ]] && echo "local.$l"
  } >"$WORK/console.in"
  echo "$WORK/console.in"
}

empty="$WORK/empty"
: >"$empty"
varin="$WORK/var.in"
echo var >"$varin"
n=0
while IFS= read -r -d '' f; do
  rel="${f#"$REALWORLD"/}"
  [[ -n "$FILTER" && "$rel" != *"$FILTER"* ]] && continue
  n=$((n + 1))
  dir="$(dirname "$f")"
  base="$(basename "$f")"
  compare fmt-check "$rel" "$dir" "$empty" fmt -check -diff "$base"
  compare fmt-stdin "$rel" "$dir" "$f" fmt -
  compare validate-syntax "$rel" "$dir" "$empty" validate -syntax-only "$base"
  compare inspect "$rel" "$dir" "$empty" inspect "$base"
  compare console-var "$rel" "$dir" "$varin" console "$base"
  in="$(console_input "$f")"
  FILE_STDIN=1 compare console-lines "$rel" "$dir" "$in" console "$base"
done < <(find "$REALWORLD" -type f -name '*.pkr.hcl' -print0 | sort -z)

while IFS= read -r dir; do
  rel="${dir#"$REALWORLD"/}/"
  [[ -n "$FILTER" && "$rel" != *"$FILTER"* ]] && continue
  mapfile -t files < <(find "$dir" -maxdepth 1 -name '*.pkr.hcl' | sort)
  ((${#files[@]} > 1)) || continue
  n=$((n + 1))
  compare validate-syntax "$rel" "$dir" "$empty" validate -syntax-only .
  compare inspect "$rel" "$dir" "$empty" inspect .
  compare console-var "$rel" "$dir" "$varin" console .
  in="$(console_input "${files[@]}")"
  FILE_STDIN=1 compare console-lines "$rel" "$dir" "$in" console .
done < <(find "$REALWORLD" -type f -name '*.pkr.hcl' -printf '%h\n' | sort -u)

echo "realworld-diff: $n units under $REALWORLD (Packer $("$PACKER" version 2>/dev/null | head -1), $KILN)"
for c in "${CMDS[@]}"; do
  printf '  %-16s %4d / %-4d agree  (%d more where Packer itself varies between runs; Kiln shows one of its two outcomes in %d)\n' "$c" "${AGREE[$c]}" "${TOTAL[$c]}" "${UNSTABLE[$c]:-0}" "${UNSTABLE_MATCH[$c]:-0}"
done
ok=0
for u in "${!TEMPLATE_OK[@]}"; do
  ((TEMPLATE_OK[$u])) && ok=$((ok + 1))
done
printf '  %-16s %4d / %-4d agree on every command\n' "units" "$ok" "${#TEMPLATE_OK[@]}"
echo "differences: $OUT/<command>/<unit>.diff"
