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
# commands both tools find in $PATH (to build without one of them). A case with a `netns`
# file is built in a network namespace the script makes for bridged networking (once, for
# all such cases): bridge `br-kiln` (10.77.0.1/24) with dnsmasq serving DHCP on it, allowed
# in /etc/qemu/bridge.conf for qemu's bridge helper; `br-kiln-noip` without an address;
# `br-kiln-deny` (10.78.0.1/24) not allowed. All of it is removed at exit.
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
netns="" bridge_conf_made=""
cleanup() {
  if [[ -n $netns ]]; then
    # dnsmasq by its pidfile, with Python's kill (never procps kill)
    python3 -c 'import os,signal,sys
try: os.kill(int(open(sys.argv[1]).read()), signal.SIGTERM)
except (OSError, ValueError): pass' "$work/dnsmasq.pid" || true
    ip netns del "$netns" 2>/dev/null || true
  fi
  [[ -z $bridge_conf_made ]] || { rm -f /etc/qemu/bridge.conf; rmdir /etc/qemu 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT

# bridge_netns: the network namespace of the `netns` cases (see the header), made once.
bridge_netns() {
  [[ -z $netns ]] || return 0
  command -v dnsmasq >/dev/null || { echo "dnsmasq is missing: run scripts/install-deps.sh" >&2; exit 1; }
  netns=kiln-qemu-diff-$$
  ip netns add "$netns"
  ip -n "$netns" link set lo up
  for br in br-kiln br-kiln-noip br-kiln-deny; do
    ip -n "$netns" link add "$br" type bridge
    ip -n "$netns" link set "$br" up
  done
  ip -n "$netns" addr add 10.77.0.1/24 dev br-kiln
  ip -n "$netns" addr add 10.78.0.1/24 dev br-kiln-deny
  if [[ ! -e /etc/qemu/bridge.conf ]]; then
    mkdir -p /etc/qemu
    echo "allow br-kiln" >/etc/qemu/bridge.conf
    bridge_conf_made=1
  elif ! grep -qx "allow br-kiln" /etc/qemu/bridge.conf; then
    echo "qemu-diff: /etc/qemu/bridge.conf exists without 'allow br-kiln'; add it" >&2
    exit 1
  fi
  setsid ip netns exec "$netns" dnsmasq --keep-in-foreground --no-resolv --no-hosts --port=0 \
    --interface=br-kiln --bind-interfaces --dhcp-range=10.77.0.10,10.77.0.50,1h \
    --pid-file="$work/dnsmasq.pid" --dhcp-leasefile="$work/dnsmasq.leases" \
    >"$work/dnsmasq.log" 2>&1 &
  disown
  for _ in $(seq 100); do [[ -s $work/dnsmasq.pid ]] && break; sleep 0.05; done
}
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
      rm -f "$dir/deviation" "$dir/path" "$dir/netns"
      local inns=()
      if [[ -f $case/netns ]]; then
        bridge_netns
        inns=(ip netns exec "$netns")
      fi
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
      (cd "$dir" && PACKER_NO_COLOR=1 CHECKPOINT_DISABLE=1 timeout 600 "${inns[@]}" env "${envs[@]}" "$bin" build -color=false . \
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
