#!/usr/bin/env bash
# Build the e2e test peer image kiln.local/guest-iso:e2e without Docker: busybox-static's
# `httpd` serving the small test guest's boot ISO (scripts/guests.sh builds it, cached) at
# http://<pod>:8080/kiln-boot.iso, as a reproducible OCI archive (packed by
# e2e/cluster/oci-image.sh). The qemu scenario downloads it from a runner pod. Only for the
# end-to-end tests.
#
# usage: images/guest-iso.sh   -> prints the archive path, then the image reference
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cache="${KILN_CACHE:-$HOME/.cache/kiln}/image"
name=kiln.local/guest-iso:e2e
mkdir -p "$cache"
dpkg -s busybox-static >/dev/null 2>&1 || apt-get install -y -qq busybox-static >&2
guests=$("$repo/scripts/guests.sh" --print)
[[ -s "$guests/iso/kiln-boot.iso" ]] || "$repo/scripts/guests.sh" >&2
iso="$guests/iso/kiln-boot.iso"
key=$( { sha256sum "$0" /bin/busybox "$iso" "$repo/e2e/cluster/oci-image.sh"; } | sha256sum | cut -c1-16)
out="$cache/guest-iso-e2e-$key.oci.tar"
if [[ ! -s "$out" ]]; then
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  chmod 0755 "$root"
  mkdir -p "$root"/{bin,srv,tmp}
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  ln -s busybox "$root/bin/sh"
  cp "$iso" "$root/srv/kiln-boot.iso"
  chmod 0644 "$root/srv/kiln-boot.iso"
  "$repo/e2e/cluster/oci-image.sh" "$name" "$root" "$out.tmp" \
    /bin/busybox httpd -f -v -p 8080 -h /srv >/dev/null
  mv "$out.tmp" "$out"
fi
echo "$out"
echo "$name"
