# shellcheck shell=bash
# Sourced by the entry scripts (test-all.sh, e2e.sh): the cargo target dir, shared by every
# checkout on this machine (~/.cache/kiln/target) so that dependencies are built once.
# Test binaries embed their checkout's path (CARGO_MANIFEST_DIR: fixtures, scripts), and
# cargo counts a binary built from another checkout of the same commit as fresh: a test then
# reads another checkout's files. So when another checkout built last, this one's sources
# are touched, which rebuilds the workspace crates (not their dependencies).
# Needs $repo (the checkout's root).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kiln/target}"
mkdir -p "$CARGO_TARGET_DIR"
if [[ "$(cat "$CARGO_TARGET_DIR/.kiln-checkout" 2>/dev/null)" != "$repo" ]]; then
  find "$repo/crds" "$repo/operator" "$repo/e2e" -name '*.rs' \
    -not -path '*/differential/cases/*' -exec touch {} +
  printf '%s\n' "$repo" > "$CARGO_TARGET_DIR/.kiln-checkout"
fi
