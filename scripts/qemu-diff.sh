#!/usr/bin/env bash
# The qemu builder against Packer's, booting real guests: every case under
# operator/tests/qemu-diff/cases/<name>/ (a `t.pkr.hcl`, optionally a `deviation` file saying
# why it must differ) is built by Packer 1.16.0 with packer-plugin-qemu v1.1.7 and by Kiln,
# one after the other in the same fresh directory, and exit code, stdout, stderr and the
# names of the files written are compared after normalising what is run-specific
# (durations, the forwarded, VNC and HTTP ports, the random VNC password, temporary names,
# UUIDs and times, xorriso's `UPDATE` lines, which it prints by the clock, the free space
# xorriso reports, and the convert
# step's `Error getting file lock for conversion; retrying...`, which both tools say or not
# as the killed qemu and the new qemu-img race for the disk's lock).
#
# The guests are scripts/guests.sh's (cached): the small kernel + initramfs guest, booted
# from its ISO under TCG (about 20 s with each tool), and the mmdebstrap Debian disk (about
# a minute), the same guest's UEFI ISO (syslinux.efi under OVMF); cases name their directory
# `GUESTS`, the ISO's sha256 `ISO_SHA256`, the UEFI ISO's `EFI_ISO_SHA256` and the Debian
# disk's `DEBIAN_SHA256`, which the script replaces. A case's `path` file lists the only
# commands both tools find in $PATH (to build without one of them).
#
# usage: scripts/qemu-diff.sh [substring]   (only the cases whose name contains it)
# env:   KILN_BIN=path (default: the debug build in $CARGO_TARGET_DIR)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
# shellcheck source=scripts/diff-verdict.sh
source scripts/diff-verdict.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kiln/target}"
filter=${1:-}
for b in qemu-system-x86_64 qemu-img; do
  command -v "$b" >/dev/null || { echo "$b is missing: run scripts/install-deps.sh" >&2; exit 1; }
done
packer=$(scripts/packer.sh | tail -n 1)
scripts/qemu-plugin.sh >/dev/null
plugin=$(ls "${KILN_CACHE:-$HOME/.cache/kiln}"/packer-plugin-qemu/1.1.7/packer-plugin-qemu_v1.1.7_x5.0_linux_amd64)
guests=$(scripts/guests.sh debian | tail -n 1)
iso_sha=$(sha256sum "$guests/iso/kiln-boot.iso" | cut -d' ' -f1)
efi_iso_sha=$(sha256sum "$guests/iso-efi/kiln-boot-efi.iso" | cut -d' ' -f1)
debian_sha=$(sha256sum "$guests/debian/disk.qcow2" | cut -d' ' -f1)
kiln=${KILN_BIN:-$CARGO_TARGET_DIR/debug/kiln}
[[ -x $kiln ]] || cargo build -q -p kiln

work=$(mktemp -d /tmp/kiln-qemu-diff.XXXXXX)
trap 'rm -rf "$work"' EXIT
export PACKER_PLUGIN_PATH="$work/plugins" PACKER_CONFIG_DIR="$work/packer-config"
mkdir -p "$PACKER_PLUGIN_PATH" "$PACKER_CONFIG_DIR"
"$packer" plugins install --path "$plugin" github.com/hashicorp/qemu >/dev/null

normalise() {
  sed -E \
    -e 's/after [0-9][^:]*(seconds?|milliseconds?|microseconds?|nanoseconds?)/after <DURATION>/g' \
    -e 's/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/<UUID>/g' \
    -e 's/\(SSH, WinRM, etc\): [0-9]+\./(SSH, WinRM, etc): <PORT>./' \
    -e 's/127\.0\.0\.1:59[0-9]{2}/127.0.0.1:<VNC>/g' \
    -e 's/packer-shell[0-9]+/packer-shell<N>/g; s/pkr-file-content[0-9]+/pkr-file-content<N>/g' \
    -e 's/packer(_to_cdrom)?[0-9]+/packer\1<N>/g' \
    -e 's/HTTP server on port [0-9]+/HTTP server on port <PORT>/' \
    -e 's/with the password: [A-Za-z0-9]+$/with the password: <PASSWORD>/' \
    -e '/xorriso : UPDATE :/d' \
    -e 's/(Media summary: .* data, +)[0-9.]+[kmgt] free/\1<FREE> free/' \
    -e '/Error getting file lock for conversion; retrying\.\.\./d' \
    -e 's/"build_time": [0-9]+/"build_time": <TIME>/'
}

total=0 agree=0 deviations=0 failed=()
for case in operator/tests/qemu-diff/cases/*/; do
  name=$(basename "$case")
  [[ -z $filter || $name == *"$filter"* ]] || continue
  total=$((total + 1))
  run_both() {
    for tool in packer kiln; do
      dir="$work/run/case"
      rm -rf "$dir"
      mkdir -p "$dir"
      cp -r "$case". "$dir/"
      rm -f "$dir/deviation" "$dir/path"
      local envs=()
      if [[ -f $case/path ]]; then
        rm -rf "$work/path"
        mkdir -p "$work/path"
        while read -r c; do ln -s "$(command -v "$c")" "$work/path/$c"; done <"$case/path"
        envs=(PATH="$work/path")
      fi
      sed -i "s#GUESTS#$guests#g; s#EFI_ISO_SHA256#$efi_iso_sha#g; s#ISO_SHA256#$iso_sha#g; s#DEBIAN_SHA256#$debian_sha#g" "$dir/t.pkr.hcl"
      if [[ $tool == packer ]]; then bin=$packer; else bin=$kiln; fi
      touch "$dir/.start"
      out="$work/run/$tool"
      (cd "$dir" && PACKER_NO_COLOR=1 CHECKPOINT_DISABLE=1 timeout 600 env "${envs[@]}" "$bin" build -color=false . \
        >"$out.stdout" 2>"$out.stderr"
        echo "exit $?" >>"$out.stdout"
        find . -type f -newer .start ! -name .start | sort >"$out.files") || true
      { normalise <"$out.stdout"; echo "--- stderr"; normalise <"$out.stderr"; echo "--- files"; cat "$out.files"; } >"$out.out"
    done
  }
  run_both
  # A guest under TCG very rarely misses its typed boot command in one of the two runs (seen
  # once in CI: no SSH banner for 4 minutes, then the same case agreed twice): a differing
  # case is built once more by both tools, and the second outcome is the verdict. A real
  # difference differs twice.
  if [[ ! -f $case/deviation ]] && ! cmp -s "$work/run/packer.out" "$work/run/kiln.out"; then
    echo "qemu-diff: $name differs; building it once more with both tools" >&2
    run_both
  fi
  verdict "$name" "$case" "$work/run/packer.out" "$work/run/kiln.out" "$work/run/diff"
done
summary qemu-diff "$total"
