#!/usr/bin/env bash
# Builds packer-plugin-qemu v1.1.7 from its Go module into
# ~/.cache/kiln/packer-plugin-qemu/1.1.7/ and installs it into Packer's plugin directory
# (`packer plugins install --path`), for the side-by-side benchmark (docs/benchmarks.md).
# Needs Go, the Go module proxy and Packer (scripts/packer.sh). The plugin's go.mod asks for
# packer-plugin-sdk v0.6.11, which the proxy does not serve: pinned to v0.6.10, as
# scripts/qemu-plugin-argv.sh does (and the two WinRM options v0.6.10 lacks are dropped).
set -euo pipefail
cache="${KILN_CACHE:-$HOME/.cache/kiln}"
out="$cache/packer-plugin-qemu/1.1.7"
bin="$out/packer-plugin-qemu_v1.1.7_x5.0_linux_amd64"
packer="$cache/packer/1.16.0/packer"
export GOMODCACHE="$cache/go/mod" GOCACHE="$cache/go/build" GOFLAGS=-modcacherw
if [ ! -x "$bin" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mod=$(cd "$work" && go mod download -json github.com/hashicorp/packer-plugin-qemu@v1.1.7 | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  cp -r "$mod/." "$work/plugin/" 2>/dev/null || { mkdir -p "$work/plugin"; cp -r "$mod/." "$work/plugin/"; }
  chmod -R u+w "$work/plugin"
  cd "$work/plugin"
  go mod edit -require=github.com/hashicorp/packer-plugin-sdk@v0.6.10
  # v1.1.7's HCL2 spec was generated with sdk v0.6.11, whose WinRM config has two fields
  # v0.6.10 lacks; left in, every build fails with "unknown configuration key". Drop them.
  sed -i '/winrm_retry_interval\|winrm_connect_timeout/d' builder/qemu/config.hcl2spec.go
  go mod tidy >/dev/null 2>&1 || true
  mkdir -p "$out"
  go build -mod=mod -o "$bin.tmp" .
  mv "$bin.tmp" "$bin"
fi
[ -x "$packer" ] || { echo "qemu-plugin.sh: $packer is missing (run scripts/packer.sh)" >&2; exit 1; }
"$packer" plugins install --path "$bin" github.com/hashicorp/qemu >&2
echo "$bin"
