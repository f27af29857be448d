#!/usr/bin/env bash
# Build the qemu runner image without Docker: the Kiln runner image (images/build.sh's static
# `kiln` binary, busybox, CA bundle, user 65532, WORKDIR /work) plus Debian's
# `qemu-system-x86_64` and `qemu-img` with the shared libraries ldd names, and the data files
# qemu opens for x86 guests (an strace of a TCG boot of the small test guest and a direct
# kernel boot lists them): SeaBIOS and its VGA BIOSes, the iPXE option ROMs of the NICs,
# /usr/share/qemu's x86 ROMs (kvmvapic, linuxboot, multiboot, pvh, qboot, sgabios) and
# keymaps, the TCG accelerator module and the virtio display modules, and OVMF's
# OVMF_CODE.fd/OVMF_VARS.fd (the qemu builder's efi_boot defaults), and swtpm with its
# libraries (the builder's vtpm). No UI, audio or
# network-block modules. The operator runs qemu sources in it (`--runner-tool-image
# qemu=<this image>`, chart value runner.toolImages.qemu); it runs with a read-only root
# filesystem as user 65532 (qemu writes only under /work and /tmp).
#
# usage: images/qemu.sh   -> prints the archive path, then the image reference
#
# env:
#   KILN_QEMU_IMAGE_NAME  repository, default ${KILN_IMAGE_NAME:-kiln.local/kiln}-qemu
#   KILN_IMAGE_TAG        tag, default images/build.sh's (dev-<short sha>)
#   KILN_BIN              a static kiln binary to use instead of images/build.sh's (tests)
# Cached by the binary's sha256, this script, images/lib.sh and the Debian package versions
# (qemu-system-x86, qemu-utils, qemu-system-data, seabios, ipxe-qemu, ovmf, swtpm,
# busybox-static).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cache="${KILN_CACHE:-$HOME/.cache/kiln}/image"
mkdir -p "$cache"
# shellcheck source=lib.sh
source "$repo/images/lib.sh"
log() { printf '[images/qemu %s] %s\n' "$(date +%T)" "$*" >&2; }
t0=$(date +%s.%N)

pkgs=(qemu-system-x86 qemu-utils qemu-system-data seabios ipxe-qemu ovmf swtpm busybox-static)
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || apt-get install -y -qq "$p" >&2
done

if [[ -n "${KILN_BIN:-}" ]]; then
  bin=$KILN_BIN
  tag="${KILN_IMAGE_TAG:-dev-$(git -C "$repo" rev-parse --short=12 HEAD)}"
else
  mapfile -t built < <("$repo/images/build.sh")
  bin=${built[2]}
  tag="${KILN_IMAGE_TAG:-${built[1]##*:}}"
fi
name="${KILN_QEMU_IMAGE_NAME:-${KILN_IMAGE_NAME:-kiln.local/kiln}-qemu}"
[[ "$tag" != latest ]] || { echo "refusing the tag 'latest' (kubelet would always pull)" >&2; exit 2; }

versions=$(dpkg-query -W -f='${Package}=${Version} ' "${pkgs[@]}")
key=$( { sha256sum "$bin" | cut -d' ' -f1; cat "$0" "$repo/images/lib.sh"; echo "$versions $name:$tag"; } \
  | sha256sum | cut -c1-16)
out="$cache/qemu-runner-$tag-$key.oci.tar"
if [[ -s "$out" ]]; then
  log "archive cached"
else
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  kiln_rootfs "$root" "$bin" /bin/busybox
  copy_with_libs "$root" /usr/bin/qemu-system-x86_64 /usr/bin/qemu-img /usr/bin/swtpm
  mods=/usr/lib/x86_64-linux-gnu/qemu
  copy_with_libs "$root" "$mods/accel-tcg-x86_64.so" "$mods/hw-display-virtio-gpu.so" \
    "$mods/hw-display-virtio-gpu-pci.so" "$mods/hw-display-virtio-vga.so"
  # Firmware and data where the Debian packages put them (qemu looks in ../share/qemu,
  # ../share/seabios and ../lib/ipxe/qemu next to its binary).
  mkdir -p "$root/usr/share/qemu" "$root/usr/share/OVMF" "$root/usr/lib/ipxe"
  cp -a /usr/share/seabios "$root/usr/share/seabios"
  cp -a /usr/lib/ipxe/qemu "$root/usr/lib/ipxe/qemu"
  cp -a /usr/share/qemu/keymaps "$root/usr/share/qemu/keymaps"
  for f in kvmvapic.bin linuxboot.bin linuxboot_dma.bin multiboot.bin multiboot_dma.bin \
    pvh.bin qboot.rom bios-microvm.bin sgabios.bin; do
    cp -a "/usr/share/qemu/$f" "$root/usr/share/qemu/$f"
  done
  cp -L /usr/share/OVMF/OVMF_CODE.fd /usr/share/OVMF/OVMF_VARS.fd "$root/usr/share/OVMF/"
  # Symlinks into packages not copied (e.g. /usr/share/qemu/*.rom -> seabios) must resolve.
  if dangling=$(find "$root" -xtype l -printf '%p -> %l\n' | grep .); then
    echo "dangling symlinks in the image:" >&2; echo "$dangling" >&2; exit 1
  fi
  # A dynamic KILN_BIN (a debug build, for local tests) gets its libraries too.
  ldd "$bin" 2>/dev/null | awk '/=>/ {print $3} !/=>/ && $1 ~ /^\// {print $1}' | while read -r lib; do
    [[ -e "$root$lib" ]] || { mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"; }
  done
  # The binaries run in the root as they will in the pod (nothing missing from ldd's list).
  for b in "/usr/bin/qemu-system-x86_64 --version" "/usr/bin/qemu-img --version" "/usr/bin/swtpm --version" "/usr/local/bin/kiln version"; do
    # shellcheck disable=SC2086  # word splitting wanted
    chroot "$root" $b >/dev/null || { echo "images/qemu.sh: $b does not run in the image" >&2; exit 1; }
  done
  version=$("$bin" version | head -1)
  qv=$(/usr/bin/qemu-system-x86_64 --version | head -1)
  man_digest=$(oci_pack "$root" "$out" "$name" "$tag" "$version; $qv" "$(git -C "$repo" rev-parse HEAD)")
  log "archive: $(du -h "$out" | cut -f1) ($(du -sh "$root" | cut -f1) unpacked), manifest $man_digest"
fi
# Keep the 3 newest archives.
find "$cache" -maxdepth 1 -name 'qemu-runner-*.oci.tar' -type f -printf '%T@ %p\n' | sort -rn \
  | tail -n +4 | cut -d' ' -f2- | xargs -r rm -f
log "done in $(printf '%.1f s' "$(echo "$(date +%s.%N) - $t0" | bc)"): $name:$tag"
echo "$out"
echo "$name:$tag"
