#!/usr/bin/env bash
# Runs every Kiln test: formatting, lints, unit and integration tests against real peers.
# Installs what it needs (Debian packages) and caches builds under ~/.cache/kiln.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kiln/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n=== %s (%s)\n' "$1" "$(date +%T)"; }

step "peers: Debian packages"
scripts/install-deps.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test"
cargo test --workspace

echo "all tests passed"
