#!/usr/bin/env bash
# Regenerates operator/engine/tests/fixtures/hcp-sbom-formats.tsv: each document of the
# table (its second column) through a copy of Packer 1.16.0's hcp-sbom `validateSBOM`
# (scripts/hcp-sbom-formats/main.go) on the same libraries (spdx/tools-golang v0.5.7,
# cyclonedx-go v0.11.0), from the Go module cache scripts/packer.sh fills. The unit test
# `formats_as_the_go_libraries_read_them` replays the table against Kiln's validate_sbom.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cache="${KILN_CACHE:-$HOME/.cache/kiln}"
export GOMODCACHE="$cache/go/mod" GOCACHE="$cache/go/build" GOFLAGS=-mod=mod
table="$repo/operator/engine/tests/fixtures/hcp-sbom-formats.tsv"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$repo/scripts/hcp-sbom-formats/main.go" "$repo/scripts/hcp-sbom-formats/go.mod" "$work/"
(cd "$work" && go mod tidy >/dev/null 2>&1 && go build -o sbom .)
header=$(head -n 1 "$table")
grep -v '^#' "$table" | cut -f2- >"$work/docs"
{ echo "$header"; paste -d'\t' <("$work/sbom" <"$work/docs") "$work/docs"; } >"$work/new.tsv"
mv "$work/new.tsv" "$table"
echo "$table: $(grep -vc '^#' "$table") documents"
