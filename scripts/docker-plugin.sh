#!/usr/bin/env bash
# Builds packer-plugin-docker v1.1.2 from its Go module into
# ~/.cache/kiln/packer-plugin-docker/1.1.2/ (reused when present) and prints the binary's
# path. The differential suite installs it for Packer in cases that name `docker` in a
# `plugins` file (operator/tests/differential.rs), so the docker builder's own checks are
# compared with Kiln's. Needs Go and the Go module proxy.
set -euo pipefail
version=1.1.2
cache="${KILN_CACHE:-$HOME/.cache/kiln}"
out="$cache/packer-plugin-docker/$version"
bin="$out/packer-plugin-docker_v${version}_x5.0_linux_amd64"
export GOMODCACHE="$cache/go/mod" GOCACHE="$cache/go/build" GOFLAGS=-modcacherw
if [ ! -x "$bin" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mod=$(cd "$work" && go mod download -json "github.com/hashicorp/packer-plugin-docker@v$version" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  mkdir -p "$work/plugin"
  cp -r "$mod/." "$work/plugin/"
  chmod -R u+w "$work/plugin"
  cd "$work/plugin"
  mkdir -p "$out"
  go build -mod=mod -o "$bin.tmp" .
  mv "$bin.tmp" "$bin"
fi
echo "$bin"
