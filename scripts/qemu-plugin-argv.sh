#!/usr/bin/env bash
# Regenerates operator/engine/tests/fixtures/qemu-plugin-v1.1.7-argv.json: the qemu argv
# that packer-plugin-qemu v1.1.7's own code (Config.Prepare + stepRun.getCommandArgs)
# produces for scripts/qemu-plugin-argv/cases.json. Kiln's argv parity test compares against it.
# Needs Go and the Go module proxy. The plugin's go.mod asks for packer-plugin-sdk v0.6.11,
# which the proxy does not serve, so it is pinned to v0.6.10 here.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cache="${KILN_CACHE:-$HOME/.cache/kiln}"
export GOMODCACHE="$cache/go/mod" GOCACHE="$cache/go/build" GOFLAGS=-modcacherw
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mod=$(cd "$work" && go mod download -json github.com/hashicorp/packer-plugin-qemu@v1.1.7 | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
mkdir -p "$work/plugin"
cp -r "$mod/." "$work/plugin/"
chmod -R u+w "$work/plugin"
cp "$here/qemu-plugin-argv/kiln_argv_dump_test.go" "$work/plugin/builder/qemu/"
cd "$work/plugin"
go mod edit -require=github.com/hashicorp/packer-plugin-sdk@v0.6.10
KILN_ARGV_IN="$here/qemu-plugin-argv/cases.json" \
KILN_ARGV_OUT="$repo/operator/engine/tests/fixtures/qemu-plugin-v1.1.7-argv.json" \
  go test -mod=mod -count=1 -run TestKilnArgvDump ./builder/qemu
echo "wrote operator/engine/tests/fixtures/qemu-plugin-v1.1.7-argv.json"
