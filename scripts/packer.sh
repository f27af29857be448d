#!/usr/bin/env bash
# Build (or reuse) Packer from source, the reference the differential suite
# (operator/tests/differential.rs) compares Kiln with.
#
# Packer is a Go module: a throwaway module under $KILN_CACHE/packer/src requires
# github.com/hashicorp/packer at $PACKER_VERSION with Packer's own `replace`
# directive (its go-cty fork; Packer's go.mod at that tag), and `go build`s the
# main package into $KILN_CACHE/packer/$PACKER_VERSION/packer, as Packer's own
# Makefile does (CGO off, -s -w). GOMODCACHE/GOCACHE/GOPATH live under
# $KILN_CACHE/go (shared with e2e/cluster/build.sh), so later builds are warm.
#
# Does nothing when the binary exists and was built from the same module files
# (stamp). Prints the binary's path on stdout. Env knobs:
#   KILN_CACHE                cache root (default ~/.cache/kiln)
#   KILN_PACKER_FORCE_BUILD=1 rebuild even if the stamp matches
#   KILN_PACKER_BUILD_JOBS    go build -p (default 2)
set -euo pipefail

PACKER_VERSION="1.16.0"
# Packer v1.16.0's go.mod: `replace github.com/zclconf/go-cty => github.com/nywilken/go-cty v1.13.3`
# and `go 1.26.3`.
GO_CTY_FORK="github.com/nywilken/go-cty v1.13.3"

KILN_CACHE="${KILN_CACHE:-$HOME/.cache/kiln}"
OUT_DIR="$KILN_CACHE/packer/$PACKER_VERSION"
SRC_DIR="$KILN_CACHE/packer/src/$PACKER_VERSION"
BIN="$OUT_DIR/packer"
export GOMODCACHE="$KILN_CACHE/go/mod"
export GOCACHE="$KILN_CACHE/go/build"
export GOPATH="$KILN_CACHE/go/path"
export GOFLAGS="${GOFLAGS:-} -mod=mod"
export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"

log() { printf '[%s] packer.sh: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

go_mod() {
  cat <<EOF
// Throwaway module pinning Packer for Kiln's differential suite (scripts/packer.sh).
// The replace mirrors Packer v$PACKER_VERSION's own go.mod.
module kiln.dev/packer

go 1.26.3

require github.com/hashicorp/packer v$PACKER_VERSION

replace github.com/zclconf/go-cty => $GO_CTY_FORK
EOF
}

stamp_value() { { go_mod; echo "CGO_ENABLED=0 -trimpath -s -w"; } | sha256sum | cut -d' ' -f1; }

want=$(stamp_value)
stamp="$OUT_DIR/.build-stamp"
if [[ -x "$BIN" && "$(cat "$stamp" 2>/dev/null)" == "$want" && "${KILN_PACKER_FORCE_BUILD:-0}" != 1 ]]; then
  log "cached: $BIN"
  echo "$BIN"
  exit 0
fi

command -v go >/dev/null || die "go toolchain not found (Debian: apt-get install golang-go, or https://go.dev/dl; Packer $PACKER_VERSION needs go >= 1.26.3)"
t0=$(date +%s)
mkdir -p "$SRC_DIR" "$OUT_DIR" "$GOMODCACHE" "$GOCACHE" "$GOPATH"
go_mod > "$SRC_DIR/go.mod"
# tools.go keeps `go mod tidy` from dropping the requirement; we build the
# dependency's main package directly, so nothing else is needed.
cat > "$SRC_DIR/tools.go" <<'EOF'
//go:build tools

// Throwaway module: builds github.com/hashicorp/packer (scripts/packer.sh).
package tools

import _ "github.com/hashicorp/packer"
EOF
log "building Packer v$PACKER_VERSION from the Go module proxy (cold: several minutes on 2 cores)"
(
  cd "$SRC_DIR"
  # The requirement graph: Packer's go.mod is authoritative for its dependencies;
  # `go mod tidy` resolves them (with the replace) and writes go.sum.
  go mod tidy >&2
  tmp="$OUT_DIR/packer.tmp.$$"
  CGO_ENABLED=0 nice -n 10 go build -p "${KILN_PACKER_BUILD_JOBS:-2}" -trimpath \
    -ldflags "-s -w" -o "$tmp" github.com/hashicorp/packer
  mv -f "$tmp" "$BIN"
)
echo "$want" > "$stamp"
"$BIN" version >&2
log "built $BIN in $(($(date +%s) - t0))s"
echo "$BIN"
