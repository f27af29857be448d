#!/usr/bin/env bash
# Build the documentation site (mdBook, docs/book.toml) into target/book and check its
# links; fails on any mdBook warning or broken link. Installs mdbook from crates.io into
# ~/.cache/kiln/tools on first use (cached).
#
# usage: scripts/docs.sh [serve]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
MDBOOK_VERSION=0.5.4
tools="${KILN_CACHE:-$HOME/.cache/kiln}/tools"
mdbook="$tools/bin/mdbook"
if ! [[ -x "$mdbook" ]] || [[ "$("$mdbook" --version)" != "mdbook v$MDBOOK_VERSION" ]]; then
  echo "installing mdbook $MDBOOK_VERSION into $tools" >&2
  CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kiln/target}" \
    cargo install mdbook --version "$MDBOOK_VERSION" --locked --root "$tools" >&2
fi
cd "$repo/docs"
if [[ "${1:-}" == serve ]]; then exec "$mdbook" serve; fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$mdbook" build 2>&1 | tee "$log" >&2
if grep -E "WARN|ERROR" "$log" >/dev/null; then
  echo "mdbook printed warnings or errors (above)" >&2
  exit 1
fi
python3 "$repo/scripts/check-links.py" "$repo/target/book" --src "$repo/docs"
echo "docs: $repo/target/book/index.html"
