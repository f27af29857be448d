# shellcheck shell=bash
# What scripts/docker-diff.sh and scripts/qemu-diff.sh share: the verdict on one case and
# the summary. Sourced; uses the caller's `agree`, `deviations` and `failed` (an array).

# verdict NAME CASE_DIR PACKER_OUT KILN_OUT DIFF_FILE: the two outcomes must agree, unless
# the case has a `deviation` file (then they must differ).
verdict() {
  local name=$1 case=$2 packer_out=$3 kiln_out=$4 difffile=$5
  if diff -u "$packer_out" "$kiln_out" >"$difffile"; then
    if [[ -f $case/deviation ]]; then
      failed+=("$name (agrees: remove its deviation file)")
    else
      agree=$((agree + 1))
    fi
  elif [[ -f $case/deviation ]]; then
    deviations=$((deviations + 1))
  else
    echo "=== $name differs (- Packer, + Kiln):"
    cat "$difffile"
    failed+=("$name")
  fi
}

# summary LABEL TOTAL: the counts; fails when a case failed.
summary() {
  echo "$1: $2 cases: $agree agree, $deviations documented deviations, ${#failed[@]} failed"
  local f
  for f in "${failed[@]}"; do echo "  failed: $f"; done
  [[ ${#failed[@]} -eq 0 ]]
}
